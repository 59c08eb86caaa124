import { cellToLatLng, gridDisk, latLngToCell } from 'h3-js';

export interface LatLng {
  lat: number;
  lng: number;
}

/**
 * H3 resolution 9 cells are ~0.1 km² (edge ≈ 174 m): fine enough for a walking-distance circle,
 * coarse enough that a 1 km disk is a few dozen cells. Stored on records as plain indexed strings.
 */
export const H3_RESOLUTION = 9;
/** Average distance between the centres of neighbouring resolution-9 cells, in metres. */
export const H3_RES9_CENTRE_SPACING_M = 2 * 174.4 * Math.cos(Math.PI / 6);

export function h3Cell(point: LatLng, resolution = H3_RESOLUTION): string {
  return latLngToCell(point.lat, point.lng, resolution);
}

/** Cells whose centres may lie within `metres` of the cell's centre (one ring of slack for edges). */
export function cellsWithin(cell: string, metres: number): string[] {
  const rings = Math.ceil(metres / H3_RES9_CENTRE_SPACING_M) + 1;
  return gridDisk(cell, rings);
}

export function cellCentre(cell: string): LatLng {
  const [lat, lng] = cellToLatLng(cell);
  return { lat, lng };
}

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres (haversine). */
export function distanceMetres(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
