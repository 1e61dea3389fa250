// Draws next month's forecast cells on the hot spot map once the page has shown: the cells come from
// /hotspots/forecast.geojson (coordinates, a plain-text FORECAST tooltip per cell, the layer's name and colour)
// and the layer joins the map's layer control, off by default as it never hides the analysis below it.
(function () {
  "use strict";
  var holder = document.getElementById("forecast-layer");
  var target = window.bandoHotspotMap;
  if (!holder || !target || !window.L) { return; }
  fetch(holder.getAttribute("data-url"), {credentials: "same-origin", headers: {"Accept": "application/geo+json"}})
    .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
    .then(function (collection) {
      if (!collection.features || !collection.features.length) { return; }
      var colour = collection.properties.colour;
      var layer = L.geoJSON(collection, {
        smoothFactor: 0.1,
        style: function () { return {fillColor: colour, color: colour, weight: 0.6, fillOpacity: 0.45}; },
        onEachFeature: function (feature, cell) {
          var tip = document.createElement("span");
          tip.textContent = feature.properties.tip;
          cell.bindTooltip(tip, {sticky: true});
        }
      });
      target.layers.addOverlay(layer, collection.properties.name);
    })
    .catch(function () { /* the analysis map stays as it is; the forecast section says why */ });
})();
