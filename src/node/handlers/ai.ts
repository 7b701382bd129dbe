import { AI_DISCLAIMER } from '../../core/ai/findings';
import type { aiChannels, AiModel, AiResult, AiRunReport, AiScope } from '../../shared/api/ai';
import type { AssessedResult, InstalledModel, RunReport } from '../ai';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type AiChannel = keyof typeof aiChannels;

export function modelView(m: InstalledModel): AiModel {
  return {
    id: m.id,
    name: m.name,
    version: m.version,
    intendedUse: m.card.intendedUse,
    modalities: m.card.accepts.modalities,
    bodyParts: m.card.accepts.bodyParts,
    viewPositions: m.card.accepts.viewPositions,
    licence: m.card.licence,
    notForDiagnosticUse: true,
    labels: m.card.output.labels.map((l) => ({ name: l.name, threshold: l.threshold })),
    heatMap: Boolean(m.card.heatMap),
    modelSha256: m.modelSha256,
    cardSha256: m.cardSha256,
    installedAt: m.installedAt,
  };
}

function instanceIdOf(s: Services, path: string): number | null {
  return s.library.instanceAtPath(path)?.instanceId ?? null;
}

function resultView(s: Services, r: AssessedResult): AiResult {
  return {
    id: r.id,
    sopInstanceUid: r.sopInstanceUid,
    studyInstanceUid: r.studyInstanceUid,
    instanceId: instanceIdOf(s, r.filePath),
    model: r.model,
    findings: r.findings,
    pixelSha256: r.pixelSha256,
    preprocessing: r.preprocessing,
    recordSha256: r.recordSha256,
    createdAt: r.createdAt,
    heatMap: r.heatMap
      ? { width: r.heatMap.width, height: r.heatMap.height, min: r.heatMap.min, max: r.heatMap.max, label: r.heatMap.label, uint8Base64: Buffer.from(r.heatMap.bytes).toString('base64') }
      : null,
    freshness: r.freshness,
  };
}

/** A run's report for the renderer: each new result is current (it was just computed from these files). */
function runView(s: Services, r: RunReport): AiRunReport {
  return {
    disclaimer: r.disclaimer,
    results: r.results.map((x) => resultView(s, { ...x, freshness: { state: 'current' } })),
    skipped: r.skipped.map((x) => ({ instanceId: instanceIdOf(s, x.path), sopInstanceUid: x.sopInstanceUid, model: x.model, reason: x.reason })),
    failed: r.failed.map((x) => ({ instanceId: instanceIdOf(s, x.path), sopInstanceUid: x.sopInstanceUid, model: x.model, code: x.code, message: x.message })),
    cancelled: r.cancelled,
  };
}

function fileOf(s: Services, instanceId: number): string {
  return s.library.instance(instanceId).filePath; // NOT_FOUND with what to do when it left the library
}

function studyUidOf(s: Services, scope: AiScope): string {
  if ('studyInstanceUid' in scope) return scope.studyInstanceUid;
  const seriesId = s.library.instance('studyOfInstanceId' in scope ? scope.studyOfInstanceId : scope.instanceId).seriesId;
  return s.library.study(s.library.oneSeries(seriesId).studyId).studyInstanceUid;
}

/** The AI domain (src/node/ai): models, runs (task kind 'ai'), findings. */
export function aiHandlers(s: Services): Pick<HandlerTable, AiChannel> {
  return {
    'ai.models.list': () => ({ models: s.ai.registry.list().map(modelView) }),
    'ai.models.add': async (r) => {
      const { model, alreadyInstalled } = await s.ai.registry.install(r.folder);
      return { model: modelView(model), alreadyInstalled };
    },
    'ai.models.remove': (r) => ({ removed: modelView(s.ai.registry.remove(r.id)) }),
    'ai.run': (r) =>
      s.tasks.run('ai', null, async (task) => {
        const scope: AiScope = r.scope;
        const report = 'instanceId' in scope ? await s.ai.runFiles([fileOf(s, scope.instanceId)], { task }) : await s.ai.runStudy(studyUidOf(s, scope), { task });
        return runView(s, report);
      }),
    'ai.findings': async (r) => {
      const scope: AiScope = r.scope;
      const results = 'instanceId' in scope ? await s.ai.fileFindings(fileOf(s, scope.instanceId)) : (await s.ai.studyFindings(studyUidOf(s, scope))).results;
      return { disclaimer: AI_DISCLAIMER, results: results.map((x) => resultView(s, x)) };
    },
    'ai.anchor': (r) => s.aiAnchors.anchorStudy(studyUidOf(s, r.scope)),
  };
}
