/**
 * Installed AI models. A model is a folder with model.onnx and card.json; installing validates
 * the card, loads the model once with ONNX Runtime and compares its inputs/outputs with the card,
 * then copies both files into <app data>/ai-models/<id>/ where id = SHA-256 of
 * "<model SHA-256>\n<card SHA-256>" (content-addressed: the same model and card install once).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateModelCard, type ModelCard } from '../../core/ai/card';
import { compareSignature, type ModelSignature } from '../../core/ai/signature';
import { ErrorCode } from '../../shared/errors';
import type { Db } from '../store/database';
import type { Logger } from '../log';
import { AiError, cardInvalid, cardMismatch, modelNotFound, noModelInstalled } from './errors';

export const MODEL_FILE = 'model.onnx';
export const CARD_FILE = 'card.json';

export interface InstalledModel {
  id: string;
  name: string;
  version: string;
  modelSha256: string;
  cardSha256: string;
  card: ModelCard;
  modelBytes: number;
  /** The installed copy (in app data). */
  modelPath: string;
  cardPath: string;
  sourceFolder: string | null;
  installedAt: string;
}

/** Loads a model and reports its inputs/outputs (onnx-runtime.ts `inspectModel` in the app). */
export type ModelInspector = (modelPath: string) => Promise<ModelSignature>;

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
export const modelId = (modelSha256: string, cardSha256: string) => sha256(`${modelSha256}\n${cardSha256}`);

interface Row {
  id: string;
  name: string;
  version: string;
  model_sha256: string;
  card_sha256: string;
  card_json: string;
  model_bytes: number;
  source_folder: string | null;
  installed_at: string;
}

export class ModelRegistry {
  constructor(
    private readonly db: Db,
    /** <app data>/ai-models */
    private readonly modelsDir: string,
    private readonly inspect: ModelInspector,
    private readonly log?: Logger,
  ) {}

  /** Reads, validates and checks a model folder without installing it. */
  async check(folder: string): Promise<{ card: ModelCard; cardText: string; model: Buffer; signature: ModelSignature }> {
    const dir = resolve(folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new AiError('MODEL_FOLDER_INCOMPLETE', ErrorCode.NotFound, `${dir} is not a folder.`, 'Give the folder that holds model.onnx and card.json.');
    }
    const missing = [MODEL_FILE, CARD_FILE].filter((f) => !existsSync(join(dir, f)));
    if (missing.length) {
      throw new AiError(
        'MODEL_FOLDER_INCOMPLETE',
        ErrorCode.InvalidArgument,
        `The model folder ${dir} has no ${missing.join(' and no ')}.`,
        'A model folder holds the ONNX file as model.onnx and its model card as card.json (docs/ai.md).',
      );
    }
    const cardText = readFileSync(join(dir, CARD_FILE), 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(cardText);
    } catch (err) {
      throw cardInvalid([`card.json is not JSON (${err instanceof Error ? err.message : String(err)})`]);
    }
    const v = validateModelCard(json);
    if (!v.ok) throw cardInvalid(v.problems);
    const model = readFileSync(join(dir, MODEL_FILE));
    let signature: ModelSignature;
    try {
      signature = await this.inspect(join(dir, MODEL_FILE));
    } catch (err) {
      const why = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
      throw new AiError(
        'MODEL_UNLOADABLE',
        ErrorCode.InvalidArgument,
        `ONNX Runtime cannot load ${join(dir, MODEL_FILE)}: ${why}`,
        'Export the model again (opset 13–21, float32 input; docs/ai.md) and check it with onnx.checker.',
      );
    }
    const problems = compareSignature(signature, v.card);
    if (problems.length) throw cardMismatch(problems);
    return { card: v.card, cardText, model, signature };
  }

  async install(folder: string): Promise<{ model: InstalledModel; alreadyInstalled: boolean }> {
    const { card, cardText, model } = await this.check(folder);
    const modelSha256 = sha256(model);
    const cardSha256 = sha256(cardText);
    const id = modelId(modelSha256, cardSha256);
    const existing = this.find(id);
    if (existing && existsSync(existing.modelPath)) return { model: existing, alreadyInstalled: true };
    const target = join(this.modelsDir, id);
    const staging = `${target}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, MODEL_FILE), model);
    writeFileSync(join(staging, CARD_FILE), cardText);
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    this.db
      .prepare(
        `INSERT OR REPLACE INTO ai_models (id, name, version, model_sha256, card_sha256, card_json, model_bytes, source_folder, installed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, card.name, card.version, modelSha256, cardSha256, cardText, model.length, resolve(folder), new Date().toISOString());
    this.log?.info('ai model installed', { id, name: card.name, version: card.version });
    return { model: this.find(id)!, alreadyInstalled: false };
  }

  list(): InstalledModel[] {
    return (this.db.prepare('SELECT * FROM ai_models ORDER BY installed_at, id').all() as Row[]).map((r) => this.toModel(r));
  }

  /** The installed models, or the "no AI model is installed" error. */
  requireAny(): InstalledModel[] {
    const l = this.list();
    if (l.length === 0) throw noModelInstalled();
    return l;
  }

  find(id: string): InstalledModel | null {
    const r = this.db.prepare('SELECT * FROM ai_models WHERE id = ?').get(id) as Row | undefined;
    return r ? this.toModel(r) : null;
  }

  /** By full id or an unambiguous prefix of at least 6 hex digits (like git). */
  get(idOrPrefix: string): InstalledModel {
    const p = idOrPrefix.trim().toLowerCase();
    if (!/^[0-9a-f]{6,64}$/.test(p)) throw modelNotFound(idOrPrefix);
    const rows = this.db.prepare("SELECT * FROM ai_models WHERE id LIKE ? || '%'").all(p) as Row[];
    if (rows.length === 0) throw modelNotFound(idOrPrefix);
    if (rows.length > 1) {
      throw new AiError('MODEL_NOT_FOUND', ErrorCode.InvalidArgument, `${idOrPrefix} matches ${rows.length} installed models.`, 'Give more digits of the id.');
    }
    return this.toModel(rows[0]!);
  }

  /** Uninstalls (files and row). Results it produced stay and are reported stale. */
  remove(idOrPrefix: string): InstalledModel {
    const m = this.get(idOrPrefix);
    this.db.prepare('DELETE FROM ai_models WHERE id = ?').run(m.id);
    rmSync(join(this.modelsDir, m.id), { recursive: true, force: true });
    this.log?.info('ai model removed', { id: m.id });
    return m;
  }

  /**
   * Re-hashes the installed files: a model file changed on disk after installation (by hand, by
   * malware) must not produce findings under the installed hash.
   */
  verifyFiles(m: InstalledModel): { ok: boolean; modelSha256: string | null; cardSha256: string | null } {
    const read = (p: string) => (existsSync(p) ? sha256(readFileSync(p)) : null);
    const modelSha256 = read(m.modelPath);
    const cardSha256 = read(m.cardPath);
    return { ok: modelSha256 === m.modelSha256 && cardSha256 === m.cardSha256, modelSha256, cardSha256 };
  }

  private toModel(r: Row): InstalledModel {
    const v = validateModelCard(JSON.parse(r.card_json));
    if (!v.ok) throw cardInvalid(v.problems); // only if the schema became stricter since installation
    const dir = join(this.modelsDir, r.id);
    return {
      id: r.id,
      name: r.name,
      version: r.version,
      modelSha256: r.model_sha256,
      cardSha256: r.card_sha256,
      card: v.card,
      modelBytes: r.model_bytes,
      modelPath: join(dir, MODEL_FILE),
      cardPath: join(dir, CARD_FILE),
      sourceFolder: r.source_folder,
      installedAt: r.installed_at,
    };
  }
}
