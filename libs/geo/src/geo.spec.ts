import { cellsWithin, distanceMetres, h3Cell, isRegionCode, parentRegion, regionLevel, regionPath, regionWithin } from './index';

describe('region codes', () => {
  it('reads the level and every ancestor off a 12-digit code', () => {
    expect(regionLevel('130203001001')).toBe('COMMUNITY');
    expect(regionLevel('130203001000')).toBe('STREET');
    expect(regionLevel('130203000000')).toBe('COUNTY');
    expect(regionPath('130203001001')).toEqual(['130000000000', '130200000000', '130203000000', '130203001000', '130203001001']);
    expect(parentRegion('130203001000')).toBe('130203000000');
  });

  it('scopes a record to a subtree', () => {
    expect(regionWithin('130203001001', '130203000000')).toBe(true);
    expect(regionWithin('130203002001', '130203001000')).toBe(false);
  });

  it('refuses codes that are not 12 digits', () => {
    expect(isRegionCode('1302030010')).toBe(false);
    expect(isRegionCode('000000000000')).toBe(false);
    expect(() => regionPath('abc')).toThrow(/12-digit/);
  });
});

describe('geo', () => {
  it('measures walking-scale distances', () => {
    // Two points ~1.11 km apart along a meridian in Tangshan.
    expect(distanceMetres({ lat: 39.63, lng: 118.18 }, { lat: 39.64, lng: 118.18 })).toBeCloseTo(1_112, -1);
  });

  it('covers a 1 km circle with a disk of H3 cells', () => {
    const home = { lat: 39.63, lng: 118.18 };
    const near = { lat: 39.637, lng: 118.186 }; // ~950 m away
    expect(distanceMetres(home, near)).toBeLessThan(1_000);
    expect(cellsWithin(h3Cell(home), 1_000)).toContain(h3Cell(near));
  });
});
