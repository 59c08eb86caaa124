import { Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import { ElderCategories, type ElderCategory } from '@yiyang/contracts';
import { cellCentre, cellsWithin, distanceMetres, H3_RES9_CENTRE_SPACING_M, type LatLng } from '@yiyang/geo';
import { parseInput, type Principal } from '@yiyang/service-kit';
import type { Connection, Model } from 'mongoose';
import { z } from 'zod';
import { FamilyCareBed } from '../facilities/family-care-bed.schema';
import { Facility, type FacilityKind } from '../facilities/facility.schema';
import { notFound, regionScopeFilter } from '../shared/scope';

const CoverageQuery = z.object({ walkMetres: z.coerce.number().int().min(100).max(5_000).default(1_000) });

/** Where an elder can walk in for a meal, day care or help: the points the 15-minute circle counts. */
export const SERVICE_POINT_KINDS: readonly FacilityKind[] = ['STREET_CENTRE', 'DAY_CARE_STATION', 'CANTEEN'];

/**
 * How far a cell's centre may lie from a service point for the cell to count as covered: the walk
 * plus half the spacing of cell centres, i.e. a cell counts when about half of it or more lies
 * inside the circle. Elders are counted by home cell, so an elder's position is known to within one
 * cell (res 9: edge ≈ 174 m): one a little beyond the walk may count, one just inside may not.
 * Every elder truly within `walkMetres − 174 m` is counted; none beyond `walkMetres + 325 m` is.
 */
const CELL_SLACK_M = H3_RES9_CENTRE_SPACING_M / 2;

interface RegionRef {
  _id: string;
  name: string;
  level: string;
  parentCode: string | null;
  regionPath: string[];
}

export interface CoverageFigures {
  regionCode: string;
  regionName: string;
  level: string;
  elders: { active: number; byCategory: { category: ElderCategory; labelZh: string; labelEn: string; count: number }[] };
  beds: { total: number; nursing: number; perThousandElders: number | null; nursingShare: number | null };
  familyCareBeds: number;
  serviceCircle: { walkMetres: number; servicePoints: number; coveredElders: number; share: number | null; method: string };
  facilityCoverage: {
    streetsWithCentre: { covered: number; total: number; share: number | null };
    communitiesWithStation: { covered: number; total: number; share: number | null };
  };
}

const ratio = (part: number, whole: number, digits = 4): number | null => (whole > 0 ? round(part / whole, digits) : null);
const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The cells whose centre lies within walking distance (plus slack) of at least one point. */
export function coveredCells(points: readonly { location: LatLng; locationCell: string }[], walkMetres: number): Set<string> {
  const covered = new Set<string>();
  const reach = walkMetres + CELL_SLACK_M;
  for (const point of points) {
    for (const cell of cellsWithin(point.locationCell, walkMetres)) {
      if (!covered.has(cell) && distanceMetres(point.location, cellCentre(cell)) <= reach) covered.add(cell);
    }
  }
  return covered;
}

/**
 * The supervision figures of one region subtree, in one call. Everything is counted in the
 * database subset FerretDB shares with MongoDB: elders are grouped per home cell and per category
 * (one `$sum` per `$group`), facilities are few enough per district to add up in code, and the
 * 15-minute circle is a set of H3 cells — never a scan of elder × facility pairs.
 */
@Injectable()
export class CoverageService {
  constructor(
    @InjectModel(Facility.name) private readonly facilities: Model<Facility>,
    @InjectModel(FamilyCareBed.name) private readonly beds: Model<FamilyCareBed>,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  async figures(principal: Principal, regionCode: string, query: unknown): Promise<CoverageFigures> {
    const { walkMetres } = parseInput(CoverageQuery, query);
    const regions = this.connection.collection<RegionRef>('regions');
    const region = await regions.findOne({ _id: regionCode, ...regionScopeFilter(principal) });
    if (!region) throw notFound('REGISTRY.REGION_NOT_FOUND', 'Region', '区划');

    const elders = this.connection.collection('elders');
    const activeElders = { regionPath: regionCode, status: 'ACTIVE' };
    // People cross street lines to the nearest canteen: service points anywhere under the parent
    // region count for this one's elders (a community's circle may be reached from the next street).
    const neighbourhood = region.parentCode ?? regionCode;
    const [perCell, perCategory, facilities, servicePoints, familyCareBeds, streets, communities] = await Promise.all([
      elders.aggregate<{ _id: string | null; n: number }>([{ $match: activeElders }, { $group: { _id: '$homeCell', n: { $sum: 1 } } }]).toArray(),
      elders
        .aggregate<{ _id: string; n: number }>([{ $match: activeElders }, { $unwind: '$categories' }, { $group: { _id: '$categories', n: { $sum: 1 } } }])
        .toArray(),
      this.facilities.find({ regionPath: regionCode }, { kind: 1, beds: 1, open: 1, regionPath: 1 }).lean(),
      this.facilities
        .find({ regionPath: neighbourhood, open: true, kind: { $in: SERVICE_POINT_KINDS } }, { location: 1, locationCell: 1, regionPath: 1 })
        .lean(),
      this.beds.countDocuments({ regionPath: regionCode, active: true }),
      regions.find({ regionPath: regionCode, level: 'STREET' }, { projection: { _id: 1 } }).toArray(),
      regions.find({ regionPath: regionCode, level: 'COMMUNITY' }, { projection: { _id: 1 } }).toArray(),
    ]);

    const activeCount = perCell.reduce((sum, c) => sum + c.n, 0);
    const covered = coveredCells(servicePoints, walkMetres);
    const coveredElders = perCell.reduce((sum, c) => sum + (c._id && covered.has(c._id) ? c.n : 0), 0);

    const counts = new Map(perCategory.map((c) => [c._id, c.n]));
    const byCategory = ElderCategories.codes.map((category) => ({
      category,
      labelZh: ElderCategories.labels[category].zh,
      labelEn: ElderCategories.labels[category].en,
      count: counts.get(category) ?? 0,
    }));

    // Bed stock counts every registered facility (the way bureaus report "beds per 1,000 elders");
    // a closed facility's beds are still capacity on the books.
    const bedTotal = facilities.reduce((sum, f) => sum + f.beds.total, 0);
    const bedNursing = facilities.reduce((sum, f) => sum + f.beds.nursing, 0);

    // "One centre per street, one station per community" asks whether a place is actually served,
    // so only open facilities count here.
    const servedBy = (kind: FacilityKind) => new Set(facilities.filter((f) => f.open && f.kind === kind).flatMap((f) => f.regionPath));
    const withCentre = servedBy('STREET_CENTRE');
    const withStation = servedBy('DAY_CARE_STATION');
    const streetsCovered = streets.filter((s) => withCentre.has(s._id)).length;
    const communitiesCovered = communities.filter((c) => withStation.has(c._id)).length;

    return {
      regionCode,
      regionName: region.name,
      level: region.level,
      elders: { active: activeCount, byCategory },
      beds: {
        total: bedTotal,
        nursing: bedNursing,
        perThousandElders: activeCount > 0 ? round((bedTotal / activeCount) * 1_000, 1) : null,
        nursingShare: ratio(bedNursing, bedTotal),
      },
      familyCareBeds,
      serviceCircle: {
        walkMetres,
        servicePoints: servicePoints.filter((p) => p.regionPath.includes(regionCode)).length,
        coveredElders,
        share: ratio(coveredElders, activeCount),
        method: `H3 res-9 home cells whose centre lies within walkMetres + ${Math.round(CELL_SLACK_M)} m of an open service point`,
      },
      facilityCoverage: {
        streetsWithCentre: { covered: streetsCovered, total: streets.length, share: ratio(streetsCovered, streets.length) },
        communitiesWithStation: { covered: communitiesCovered, total: communities.length, share: ratio(communitiesCovered, communities.length) },
      },
    };
  }
}
