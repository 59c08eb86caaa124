import { chinaMonth, chinaTime, percent, yuan } from './format';
import { distanceMetres, parseLatLng } from './geo';

describe('formatting', () => {
  it('shows integer fen as yuan without float drift', () => {
    expect(yuan(20_000)).toBe('¥200.00');
    expect(yuan(123_456_789)).toBe('¥1,234,567.89');
    expect(yuan(-5)).toBe('-¥0.05');
    expect(yuan(null)).toBe('—');
  });

  it('shows times and months in China time', () => {
    expect(chinaTime('2026-11-22T16:30:00Z')).toBe('2026-11-23 00:30');
    expect(chinaMonth(new Date('2026-11-30T17:00:00Z'))).toBe('2026-12');
    expect(chinaMonth(new Date('2026-01-10T00:00:00Z'), -1)).toBe('2025-12');
  });

  it('shows a share as a percentage and a dash when unknown', () => {
    expect(percent(0.9234)).toBe('92.3%');
    expect(percent(null)).toBe('—');
  });

  it('reads typed coordinates and refuses places outside China', () => {
    expect(parseLatLng('39.63, 118.18')).toEqual({ lat: 39.63, lng: 118.18 });
    expect(parseLatLng('39.63，118.18')).toEqual({ lat: 39.63, lng: 118.18 });
    expect(parseLatLng('118.18, 39.63')).toBeNull();
    expect(parseLatLng('abc')).toBeNull();
    expect(Math.round(distanceMetres({ lat: 39.63, lng: 118.18 }, { lat: 39.64, lng: 118.18 }))).toBeGreaterThan(1100);
  });
});
