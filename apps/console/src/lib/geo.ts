export interface LatLng {
  lat: number;
  lng: number;
}

/** The browser's position, or null when it is refused, unavailable or too slow (the caller then asks by hand). */
export function currentPosition(timeoutMs = 8_000): Promise<(LatLng & { accuracyMeters: number }) | null> {
  return new Promise((resolve) => {
    if (typeof navigator === 'undefined' || !navigator.geolocation) return resolve(null);
    const timer = setTimeout(() => resolve(null), timeoutMs + 500);
    navigator.geolocation.getCurrentPosition(
      (p) => (clearTimeout(timer), resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracyMeters: Math.round(p.coords.accuracy) })),
      () => (clearTimeout(timer), resolve(null)),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30_000 },
    );
  });
}

/** Parses "39.63, 118.18" (lat, lng) as typed by hand; null if it is not a place in China. */
export function parseLatLng(text: string): LatLng | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!m) return null;
  const lat = Number(m[1]);
  const lng = Number(m[2]);
  if (lat < 3 || lat > 54 || lng < 73 || lng > 136) return null;
  return { lat, lng };
}

export function distanceMetres(a: LatLng, b: LatLng): number {
  const R = 6_371_000;
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}
