/* New key area: copy the shapes drawn with Leaflet.draw into the form's hidden "geometry" field. */
(function () {
  "use strict";
  var form = document.getElementById("new-area-form");
  var field = document.getElementById("drawn-geometry");
  if (!form || !field) { return; }
  function drawnGeometry() {
    var group = window.feature_group_drawn;
    if (!group) { return ""; }
    var collection = group.toGeoJSON();
    return collection.features.length ? JSON.stringify(collection) : "";
  }
  form.addEventListener("submit", function () {
    var value = drawnGeometry();
    if (value) { field.value = value; }
  });
})();
