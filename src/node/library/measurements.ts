/** Measurements drawn in the viewer, stored per instance (by SOP Instance UID, so a re-import keeps them). */
import type { Db } from '../store/database';
import { AppError, ErrorCode } from '../../shared/errors';
import type { Measurement, MeasurementKind } from '../../shared/api/library';
import type { LibraryQueries } from './queries';
import { measure, statsOf, type MeasureKind, type PixelSpacing } from '../../shared/viewer/measure';
import { numbersColumn } from '../store/columns';

/** The kinds whose value is computed from the handles and the pixel spacing (src/shared/viewer/measure.ts). */
function measuredKind(kind: MeasurementKind): MeasureKind | null {
  return kind === 'length' || kind === 'angle' ? kind : null;
}

type Row = Record<string, unknown>;

export class Measurements {
  constructor(
    private readonly db: Db,
    private readonly queries: LibraryQueries,
  ) {}

  /**
   * A length / angle reads the one value of its handles and the instance's Pixel Spacing, never
   * a number the client sent or one stored by an older version.
   */
  private toMeasurement(r: Row, instanceId: number, spacing: PixelSpacing): Measurement {
    const data = JSON.parse(r.data as string) as Record<string, unknown>;
    const kind = r.kind as MeasurementKind;
    const mk = measuredKind(kind);
    const measured = mk ? measure(mk, data.handles, spacing) : null;
    return {
      id: r.id as number,
      instanceId,
      frame: r.frame as number,
      kind,
      data,
      stats: measured ? statsOf(measured) : (JSON.parse(r.stats as string) as Record<string, number | string | null>),
      label: (r.label as string) ?? null,
      createdAt: r.created_at as string,
      updatedAt: r.updated_at as string,
    };
  }

  measurements(q: { instanceId?: number; seriesId?: number }): Measurement[] {
    if (q.instanceId === undefined && q.seriesId === undefined) throw new AppError(ErrorCode.InvalidArgument, 'Give an instanceId or a seriesId.');
    const rows = (
      q.instanceId !== undefined
        ? this.db.prepare('SELECT m.*, i.id AS iid, i.pixel_spacing AS ps FROM measurements m JOIN instances i ON i.sop_uid = m.sop_uid WHERE i.id = ? ORDER BY m.id').all(q.instanceId)
        : this.db.prepare('SELECT m.*, i.id AS iid, i.pixel_spacing AS ps FROM measurements m JOIN instances i ON i.sop_uid = m.sop_uid WHERE i.series_ref = ? ORDER BY m.id').all(q.seriesId)
    ) as Row[];
    return rows.map((r) => this.toMeasurement(r, r.iid as number, numbersColumn(r.ps)));
  }

  saveMeasurement(m: {
    id?: number;
    instanceId: number;
    frame?: number;
    kind: MeasurementKind;
    data: Record<string, unknown>;
    stats?: Record<string, number | string | null>;
    label?: string | null;
  }): Measurement {
    const inst = this.queries.instance(m.instanceId);
    const data = JSON.stringify(m.data);
    if (data.length > 1_000_000) throw new AppError(ErrorCode.InvalidArgument, 'This measurement is too large to store (over 1 MB of tool state).');
    const mk = measuredKind(m.kind);
    const spacing = inst.geometry.pixelSpacing;
    let stats = JSON.stringify(m.stats ?? {});
    if (mk) {
      // Stored as measured here from the handles, whatever the client computed.
      const r = measure(mk, m.data.handles, spacing);
      if (!r) {
        throw new AppError(
          ErrorCode.InvalidArgument,
          `This ${mk} measurement is incomplete (its handles do not give a ${mk}: a point is missing or two coincide); it was not stored.`,
          'Draw it again with distinct points.',
        );
      }
      stats = JSON.stringify(statsOf(r));
    }
    const now = new Date().toISOString();
    let id: number;
    if (m.id !== undefined) {
      const r = this.db
        .prepare('UPDATE measurements SET sop_uid = ?, frame = ?, kind = ?, data = ?, stats = ?, label = ?, updated_at = ? WHERE id = ?')
        .run(inst.sopInstanceUid, m.frame ?? 0, m.kind, data, stats, m.label ?? null, now, m.id);
      if (r.changes === 0) throw new AppError(ErrorCode.NotFound, `Measurement ${m.id} does not exist (any more).`);
      id = m.id;
    } else {
      const r = this.db
        .prepare('INSERT INTO measurements (sop_uid, frame, kind, data, stats, label, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(inst.sopInstanceUid, m.frame ?? 0, m.kind, data, stats, m.label ?? null, now, now);
      id = Number(r.lastInsertRowid);
    }
    const row = this.db.prepare('SELECT * FROM measurements WHERE id = ?').get(id) as Row;
    return this.toMeasurement(row, inst.id, spacing);
  }

  deleteMeasurement(id: number): boolean {
    return this.db.prepare('DELETE FROM measurements WHERE id = ?').run(id).changes > 0;
  }
}
