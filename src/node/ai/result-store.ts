/**
 * AI results in SQLite (migration 011): one row per instance and model, re-running replaces it.
 * Heat maps are stored as 8-bit values over their own min..max, deflated (a 7×7 to 64×64 map is
 * tens to a few thousand bytes).
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { Finding, QuantisedHeatMap } from '../../core/ai/findings';
import type { AppliedWindow } from '../../core/ai/preprocess';
import { recordDigest, RESULT_RECORD_SPEC, sha256Hex, type ResultRecord } from '../../core/ai/result-record';
import type { Db } from '../store/database';

export interface NewResult {
  sopInstanceUid: string;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  filePath: string;
  model: { id: string; name: string; version: string; modelSha256: string; cardSha256: string };
  preprocessing: string;
  window: AppliedWindow & { inverted: boolean };
  pixelSha256: string;
  pixelSource: 'fingerprint' | 'computed';
  findings: Finding[];
  output: number[];
  heatMap: (QuantisedHeatMap & { label: string | null }) | null;
}

export interface StoredResult extends NewResult {
  id: number;
  recordSha256: string;
  createdAt: string;
}

interface Row {
  id: number;
  sop_instance_uid: string;
  study_instance_uid: string | null;
  series_instance_uid: string | null;
  file_path: string;
  model_id: string;
  model_name: string;
  model_version: string;
  model_sha256: string;
  card_sha256: string;
  preprocessing: string;
  window_json: string;
  pixel_sha256: string;
  pixel_source: 'fingerprint' | 'computed';
  findings_json: string;
  output_json: string;
  heat_map: Buffer | null;
  heat_map_json: string | null;
  record_sha256: string;
  created_at: string;
}

/** The record that is hashed and anchored (src/core/ai/result-record.ts). */
export function resultRecord(r: NewResult): ResultRecord {
  return {
    spec: RESULT_RECORD_SPEC,
    uidHash: sha256Hex(r.sopInstanceUid),
    pixel: r.pixelSha256,
    model: { sha256: r.model.modelSha256, cardSha256: r.model.cardSha256, name: r.model.name, version: r.model.version },
    preprocessing: r.preprocessing,
    findings: r.findings,
    heatMap: r.heatMap ? sha256Hex(r.heatMap.bytes) : null,
  };
}

export class AiResultStore {
  constructor(private readonly db: Db) {}

  save(r: NewResult): StoredResult {
    const recordSha256 = recordDigest(resultRecord(r));
    const createdAt = new Date().toISOString();
    const heat = r.heatMap;
    this.db
      .prepare(
        `INSERT INTO ai_results (sop_instance_uid, study_instance_uid, series_instance_uid, file_path, model_id, model_name, model_version,
           model_sha256, card_sha256, preprocessing, window_json, pixel_sha256, pixel_source, findings_json, output_json, heat_map,
           heat_map_json, record_sha256, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sop_instance_uid, model_id) DO UPDATE SET
           study_instance_uid = excluded.study_instance_uid, series_instance_uid = excluded.series_instance_uid,
           file_path = excluded.file_path, model_name = excluded.model_name, model_version = excluded.model_version,
           model_sha256 = excluded.model_sha256, card_sha256 = excluded.card_sha256, preprocessing = excluded.preprocessing,
           window_json = excluded.window_json, pixel_sha256 = excluded.pixel_sha256, pixel_source = excluded.pixel_source,
           findings_json = excluded.findings_json, output_json = excluded.output_json, heat_map = excluded.heat_map,
           heat_map_json = excluded.heat_map_json, record_sha256 = excluded.record_sha256, created_at = excluded.created_at`,
      )
      .run(
        r.sopInstanceUid,
        r.studyInstanceUid,
        r.seriesInstanceUid,
        r.filePath,
        r.model.id,
        r.model.name,
        r.model.version,
        r.model.modelSha256,
        r.model.cardSha256,
        r.preprocessing,
        JSON.stringify(r.window),
        r.pixelSha256,
        r.pixelSource,
        JSON.stringify(r.findings),
        JSON.stringify(r.output),
        heat ? deflateSync(heat.bytes) : null,
        heat ? JSON.stringify({ width: heat.width, height: heat.height, min: heat.min, max: heat.max, encoding: 'uint8-minmax-deflate', label: heat.label }) : null,
        recordSha256,
        createdAt,
      );
    return this.one(r.sopInstanceUid, r.model.id)!;
  }

  one(sopInstanceUid: string, modelId: string): StoredResult | null {
    const row = this.db.prepare('SELECT * FROM ai_results WHERE sop_instance_uid = ? AND model_id = ?').get(sopInstanceUid, modelId) as Row | undefined;
    return row ? toResult(row) : null;
  }

  forStudy(studyInstanceUid: string): StoredResult[] {
    return (this.db.prepare('SELECT * FROM ai_results WHERE study_instance_uid = ? ORDER BY sop_instance_uid, model_id').all(studyInstanceUid) as Row[]).map(toResult);
  }

  forInstance(sopInstanceUid: string): StoredResult[] {
    return (this.db.prepare('SELECT * FROM ai_results WHERE sop_instance_uid = ? ORDER BY model_id').all(sopInstanceUid) as Row[]).map(toResult);
  }

  forFile(path: string): StoredResult[] {
    return (this.db.prepare('SELECT * FROM ai_results WHERE file_path = ? ORDER BY model_id').all(path) as Row[]).map(toResult);
  }
}

function toResult(r: Row): StoredResult {
  const hm = r.heat_map_json ? (JSON.parse(r.heat_map_json) as { width: number; height: number; min: number; max: number; label: string | null }) : null;
  return {
    id: r.id,
    sopInstanceUid: r.sop_instance_uid,
    studyInstanceUid: r.study_instance_uid,
    seriesInstanceUid: r.series_instance_uid,
    filePath: r.file_path,
    model: { id: r.model_id, name: r.model_name, version: r.model_version, modelSha256: r.model_sha256, cardSha256: r.card_sha256 },
    preprocessing: r.preprocessing,
    window: JSON.parse(r.window_json) as StoredResult['window'],
    pixelSha256: r.pixel_sha256,
    pixelSource: r.pixel_source,
    findings: JSON.parse(r.findings_json) as Finding[],
    output: JSON.parse(r.output_json) as number[],
    heatMap: hm && r.heat_map ? { ...hm, bytes: new Uint8Array(inflateSync(r.heat_map)) } : null,
    recordSha256: r.record_sha256,
    createdAt: r.created_at,
  };
}
