// Border gates placed on a map (administrators, /corridor/gates): "Place on the map" on a gate's form, then a
// click on the map fills its longitude and latitude; the marker and its uncertainty circle follow the form's
// fields while editing. The server checks the point (near the border, inside the province) when saved.
(function () {
  "use strict";
  var block = document.getElementById("gate-placement-data");
  var container = document.getElementById("gate-map");
  if (!block || !container || typeof L === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var map = L.map(container, { zoomSnap: 0.5 });
  window.gateMap = map;
  map.fitBounds(data.bounds);
  if (data.province) {
    L.geoJSON(data.province, { interactive: false, style: { color: "#777", weight: 1, fill: false } }).addTo(map);
  }
  L.geoJSON(data.border, { interactive: false, style: { color: "#a3111a", weight: 3 } }).addTo(map);
  var status = document.getElementById("gate-placement-status");
  var active = null, marker = null, circle = null;

  var field = function (form, name) { return form.querySelector("[name='" + name + "']"); };
  var number = function (input) {
    if (!input || input.value.trim() === "") { return null; }
    var value = Number(input.value.replace(",", "."));
    return isFinite(value) ? value : null;
  };
  var colourOf = function (form) {
    var cls = field(form, "gate_class");
    return (cls && data.colours[cls.value]) || "#444444";
  };
  var draw = function (form) {
    var lon = number(field(form, "lon")), lat = number(field(form, "lat"));
    if (marker) { map.removeLayer(marker); marker = null; }
    if (circle) { map.removeLayer(circle); circle = null; }
    if (lon === null || lat === null) { return; }
    var colour = colourOf(form);
    var metres = number(field(form, "uncertainty_m"));
    var approximate = field(form, "approximate");
    if (metres && metres > 0 && (!approximate || approximate.checked)) {
      circle = L.circle([lat, lon], { radius: metres, color: colour, weight: 1.5, dashArray: "5 5", fillOpacity: 0.08,
                                      className: "gate-uncertainty", interactive: false }).addTo(map);
      circle.bindTooltip(data.words.circle.replace("{m}", String(metres)));
    }
    marker = L.circleMarker([lat, lon], { radius: 8, color: "#fff", weight: 2.5, fillColor: colour, fillOpacity: 1,
                                          className: "gate-marker" }).addTo(map);
  };
  var activate = function (form) {
    if (active) { active.classList.remove("placing"); }
    active = form;
    form.classList.add("placing");
    var name = (field(form, "name") && field(form, "name").value) || "";
    status.textContent = data.words.placing.replace("{name}", name);
    container.scrollIntoView({ block: "nearest" });
    draw(form);
    var lon = number(field(form, "lon")), lat = number(field(form, "lat"));
    if (lon !== null && lat !== null) { map.setView([lat, lon], Math.max(map.getZoom(), 12)); }
  };
  document.querySelectorAll("form.gate-form").forEach(function (form) {
    var button = form.querySelector("[data-gate-form]");
    if (button) { button.addEventListener("click", function () { activate(form); }); }
    ["lon", "lat", "uncertainty_m", "approximate", "gate_class"].forEach(function (name) {
      var input = field(form, name);
      if (input) { input.addEventListener("input", function () { if (form === active) { draw(form); } });
                   input.addEventListener("change", function () { if (form === active) { draw(form); } }); }
    });
  });
  map.on("click", function (event) {
    if (!active) { return; }
    field(active, "lon").value = event.latlng.lng.toFixed(6);
    field(active, "lat").value = event.latlng.lat.toFixed(6);
    draw(active);
  });
})();
