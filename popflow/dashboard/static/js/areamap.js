// A MapLibre map whose only layers are the areas themselves (no base-map tiles):
// choropleth by feature state, hatched "too few to show" areas, hover details, click to select, flow lines.
import { Map as MapLibreMap, Marker, NavigationControl, Popup } from "../vendor/maplibre-gl/maplibre-gl.mjs";
import { hatchImage, rampExpression, SUPPRESSED } from "./colors.js";
import { formatNumber, readable } from "./model.js";

const STYLE = {
  version: 8, sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f5" } }],
};
const EMPTY = { type: "FeatureCollection", features: [] };
const STATUS = ["feature-state", "status"];

export class AreaMap {
  // ``labelled``: each area's name written at its label point (HTML, as no glyphs are served for map text).
  constructor(container, { describe, labelled = false } = {}) {
    this.map = new MapLibreMap({ container, style: STYLE, center: [0, 0], zoom: 1, attributionControl: false,
      dragRotate: false, pitchWithRotate: false });
    this.map.addControl(new NavigationControl({ showCompass: false }), "top-left");
    this.describe = describe || ((p) => p.name);
    this.labelled = labelled;
    this.markers = [];
    this.values = new Map();
    this.areaIds = [];
    this.selected = null;
    this.onSelect = () => {};
    this.loaded = new Promise((resolve) => this.map.on("load", () => { this.addLayers(); resolve(); }));
  }

  addLayers() {
    const map = this.map;
    map.addImage("hatch", hatchImage(), { pixelRatio: 1 });
    map.addSource("areas", { type: "geojson", data: EMPTY, promoteId: "area_id" });
    map.addSource("flows", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "areas-fill", type: "fill", source: "areas",
      paint: { "fill-color": SUPPRESSED, "fill-opacity": 0.92 } });
    map.addLayer({ id: "areas-hatch", type: "fill", source: "areas",
      paint: { "fill-pattern": "hatch", "fill-opacity": ["case", ["==", STATUS, "suppressed"], 1, 0] } });
    map.addLayer({ id: "areas-line", type: "line", source: "areas",
      paint: { "line-color": "#56616d", "line-width": ["case", ["boolean", ["feature-state", "selected"], false], 3, 0.7] } });
    map.addLayer({ id: "flows-line", type: "line", source: "flows", layout: { "line-cap": "round" },
      paint: { "line-color": ["get", "color"], "line-width": ["get", "width"], "line-opacity": 0.85 } });
    this.addInteraction();
  }

  // Hover details in one popup; ``hovered`` is the area under the pointer, so new values refresh its text.
  addInteraction() {
    const popup = (this.popup = new Popup({ closeButton: false, closeOnClick: false }));
    const show = (event, html) => popup.setLngLat(event.lngLat).setHTML(html).addTo(this.map);
    this.map.on("mousemove", (event) => {
      const flow = this.map.queryRenderedFeatures(event.point, { layers: ["flows-line"] })[0];
      const area = this.map.queryRenderedFeatures(event.point, { layers: ["areas-fill"] })[0];
      this.map.getCanvas().style.cursor = flow || area ? "pointer" : "";
      this.hovered = !flow && area ? area.properties : null;
      if (flow) show(event, escapeHtml(flow.properties.label));
      else if (area) show(event, this.describe(area.properties, this.values.get(area.properties.area_id)));
      else popup.remove();
    });
    this.map.on("mouseout", () => { this.hovered = null; popup.remove(); });
    this.map.on("click", "areas-fill", (event) => this.select(event.features[0].properties.area_id));
  }

  // Replace the areas (a GeoJSON FeatureCollection from /api/areas) and fit the view to them.
  async setAreas(collection) {
    await this.loaded;
    this.hovered = null;
    this.popup.remove();  // it described an area of the areas being replaced
    this.map.getSource("areas").setData(collection);
    this.areaIds = collection.features.map((f) => f.properties.area_id);
    this.names = new Map(collection.features.map((f) => [f.properties.area_id, f.properties.name]));
    this.labels = new Map(collection.features.map((f) => [f.properties.area_id, f.properties.label]));
    if (this.labelled) this.writeNames(collection);
    const box = bounds(collection);
    if (box) this.map.fitBounds(box, { padding: 30, duration: 0 });
    this.select(this.areaIds.includes(this.selected) ? this.selected : null);
  }

  writeNames(collection) {
    this.markers.forEach((m) => m.remove());
    this.markers = collection.features.filter((f) => f.properties.label).map((f) => {
      const element = Object.assign(document.createElement("div"), { className: "area-name", textContent: f.properties.name });
      return new Marker({ element }).setLngLat(f.properties.label).addTo(this.map);
    });
  }

  // Colour areas: values maps area_id → number; an area without a value is drawn hatched ("too few to show").
  async setValues(values, { min, max }) {
    await this.loaded;
    this.values = values;
    this.map.setPaintProperty("areas-fill", "fill-color", ["case", ["==", STATUS, "value"],
      rampExpression(min, max, ["to-number", ["feature-state", "value"], 0]), SUPPRESSED]);
    for (const id of this.areaIds) {
      const value = values.get(id);
      const has = value !== undefined && value !== null;
      this.map.setFeatureState({ source: "areas", id }, { status: has ? "value" : "suppressed", value: has ? value : 0 });
    }
    if (this.hovered) this.popup.setHTML(this.describe(this.hovered, values.get(this.hovered.area_id)));
  }

  // Plain areas (for the flows map): light fill, no hatch.
  async setPlain() {
    await this.loaded;
    this.values = new Map();
    this.popup.remove();
    this.map.setPaintProperty("areas-fill", "fill-color", "#f8fafb");
    for (const id of this.areaIds) this.map.setFeatureState({ source: "areas", id }, { status: "plain" });
  }

  async setFlows(collection) {
    await this.loaded;
    this.map.getSource("flows").setData(collection);
  }

  select(areaId) {
    if (this.selected && this.areaIds.includes(this.selected)) {
      this.map.setFeatureState({ source: "areas", id: this.selected }, { selected: false });
    }
    this.selected = areaId;
    if (areaId) this.map.setFeatureState({ source: "areas", id: areaId }, { selected: true });
    this.onSelect(areaId);
  }

  // What is drawn now, read back from the map: areas coloured by a value and areas hatched (nothing before the
  // map's style has loaded its layers).
  drawn() {
    const rendered = (layer) => (this.map.getLayer(layer) ? this.map.queryRenderedFeatures({ layers: [layer] }) : []);
    const status = new Map(rendered("areas-fill").map((f) => [f.properties.area_id, f.state.status]));
    const count = (s) => [...status.values()].filter((v) => v === s).length;
    const flows = rendered("flows-line").length;
    return { coloured: count("value"), suppressed: count("suppressed"), plain: count("plain"), flows,
      popups: this.map.getContainer().querySelectorAll(".maplibregl-popup").length };
  }

  resize() { this.map.resize(); }
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// Hover text of an area: its name and id, and its value (``format``ted) or "too few to show".
export function describeValue(properties, value, measure, format = formatNumber) {
  const shown = value === undefined || value === null
    ? "<em>too few to show</em> (fewer than k people)" : `${escapeHtml(format(value))} ${escapeHtml(readable(measure))}`;
  return `<strong>${escapeHtml(properties.name)}</strong> <small>${escapeHtml(properties.area_id)}</small><br>${shown}`;
}

function bounds(collection) {
  let box = null;
  const visit = (c) => {
    if (typeof c[0] === "number") {
      box = box ? [[Math.min(box[0][0], c[0]), Math.min(box[0][1], c[1])], [Math.max(box[1][0], c[0]), Math.max(box[1][1], c[1])]]
        : [[c[0], c[1]], [c[0], c[1]]];
    } else c.forEach(visit);
  };
  collection.features.forEach((f) => f.geometry && visit(f.geometry.coordinates));
  return box;
}
