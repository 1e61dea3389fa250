/* The app's offline basemap: one PMTiles file read with HTTP range requests (pmtiles), drawn by protomaps-leaflet.
 *
 * The file's metadata decides the style: an archive made by `flask --app server build-basemap` (schema
 * "bando138-basemap/1") has the app's own layers and is drawn with the rules below; any other archive is taken
 * to be a Protomaps build (an extract of the OpenStreetMap planet) and drawn with Protomaps' "light" flavour.
 * The layer is a LayerGroup at once, so the layer control can hold it before the metadata has arrived.
 */
(function () {
  "use strict";

  var P = window.protomapsL;

  function kind(value) {
    return function (zoom, feature) { return feature.props.kind === value; };
  }

  function areaOnly(zoom, feature) { return feature.geomType === 3; }
  function linesOnly(zoom, feature) { return feature.geomType === 2; }

  function ownPaintRules() {
    return [
      {dataLayer: "neighbour", symbolizer: new P.PolygonSymbolizer({fill: "#ebe7df"})},
      {dataLayer: "province", symbolizer: new P.PolygonSymbolizer({fill: "#fbfaf4"})},
      {dataLayer: "water", filter: areaOnly, symbolizer: new P.PolygonSymbolizer({fill: "#b5d6e6"})},
      {dataLayer: "water", filter: linesOnly, symbolizer: new P.LineSymbolizer({
        color: "#8fc0da", width: P.exp(1.4, [[8, 0.8], [14, 4]])})},
      {dataLayer: "roads", symbolizer: new P.LineSymbolizer({
        color: "#d9a066", width: P.exp(1.4, [[8, 0.6], [14, 3]])})},
      {dataLayer: "communes", minzoom: 9, symbolizer: new P.LineSymbolizer({
        color: "#c4bdae", width: P.exp(1.4, [[9, 0.4], [14, 1.2]])})},
      {dataLayer: "districts", minzoom: 7, symbolizer: new P.LineSymbolizer({
        color: "#9a9283", width: P.exp(1.4, [[7, 0.6], [14, 1.8]]), dash: [4, 3]})},
      {dataLayer: "province", symbolizer: new P.LineSymbolizer({
        color: "#6b6355", width: P.exp(1.4, [[7, 1.2], [14, 3]])})},
      {dataLayer: "border", symbolizer: new P.LineSymbolizer({
        color: "#a3332b", width: P.exp(1.4, [[7, 1.5], [14, 3.5]]), dash: [7, 3]})}
    ];
  }

  function text(options) {
    return new P.CenteredTextSymbolizer(Object.assign({labelProps: ["name"], fontFamily: "sans-serif",
      stroke: "#ffffff", width: 2}, options));
  }

  function ownLabelRules() {
    return [
      {dataLayer: "places", filter: kind("neighbour"), symbolizer: text({
        fontSize: 13, fontStyle: "italic", fill: "#8a8276"})},
      {dataLayer: "places", filter: kind("province"), maxzoom: 8, symbolizer: text({
        fontSize: 15, fontWeight: 600, fill: "#4a4439"})},
      {dataLayer: "places", filter: kind("district"), minzoom: 9, maxzoom: 10, symbolizer: text({
        fontSize: 12, fontWeight: 600, fill: "#5f584b"})},
      {dataLayer: "places", filter: kind("commune"), minzoom: 11, symbolizer: text({
        fontSize: P.exp(1.2, [[11, 10], [15, 13]]), fill: "#3d382f"})},
      {dataLayer: "water", minzoom: 11, filter: linesOnly, symbolizer: new P.LineLabelSymbolizer({
        labelProps: ["name"], fontFamily: "sans-serif", fontSize: 11, fontStyle: "italic", fill: "#3d7ea6",
        stroke: "#ffffff", width: 2})},
      {dataLayer: "roads", minzoom: 12, symbolizer: new P.LineLabelSymbolizer({
        labelProps: ["name"], fontFamily: "sans-serif", fontSize: 10, fill: "#7a5220", stroke: "#ffffff",
        width: 2})}
    ];
  }

  function pmtilesLayer(options) {
    var group = L.layerGroup();
    var archive = new window.pmtiles.PMTiles(options.url);
    Promise.all([archive.getHeader(), archive.getMetadata()]).then(function (parts) {
      var header = parts[0], metadata = parts[1] || {};
      var settings = {
        url: archive,
        maxDataZoom: header.maxZoom,
        attribution: options.attribution || metadata.attribution || "",
        lang: options.lang
      };
      if (metadata.schema === "bando138-basemap/1") {
        settings.paintRules = ownPaintRules();
        settings.labelRules = ownLabelRules();
        settings.backgroundColor = "#dfe9ee";
      } else {
        settings.flavor = "light";
      }
      group.addLayer(P.leafletLayer(settings));
      group.fire("basemapready", {schema: metadata.schema || "protomaps"});
      window.bandoBasemapState = "ready";
    }).catch(function (error) {
      window.bandoBasemapState = "failed";
      if (window.console) { window.console.error("basemap: " + error); }
    });
    return group;
  }

  window.bandoBasemap = {pmtilesLayer: pmtilesLayer};
}());
