import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AppInfo } from '../shared/api';
import { presetById, relativePresetsFor } from '../shared/viewer/presets';
import type { ToolName, ViewerAction } from '../shared/viewer/shortcuts';
import { BridgeError, bridge, call } from './bridge';
import { HelpOverlay } from './shell/HelpOverlay';
import { MeasurementPanel } from './viewer/MeasurementPanel';
import { SaveAsSr } from './measurements/SaveAsSr';
import { StatusBar } from './shell/StatusBar';
import { StudyPanel } from './library/StudyPanel';
import { firstImageDone, firstImagePending, holdInstanceList } from './library/instanceList';
import { TagInspector } from './viewer/TagInspector';
import { Toolbar } from './shell/Toolbar';
import { TrustButtons } from './trust/TrustButtons';
import { LAYOUT_CELLS, useViewportApis, ViewportArea, type Layout } from './viewer/ViewportArea';
import { useLedgerStatus } from './shell/useLedgerStatus';
import { copySourceOf, freshSeriesView, seriesView, sourceName, sourceOfView } from './library/seriesViews';
import { setPrimaryTool } from './viewer/tools';
import { cancelPrefetch, preloadFirstImage } from './viewer/useImageStack';
import type { SeriesView, ViewportBadges, ViewportStatus } from './viewer/types';
import { ViewerBadges } from './verification/ViewerBadges';
import { LedgerTopBar } from './shell/LedgerTopBar';
import { TrustLayer, useTrustToolbar, useTrustUi } from './trust/TrustLayer';
import { BrandMark } from './shell/BrandMark';
import { useFileDrop } from './shell/useFileDrop';
import { useShortcutKeys } from './shell/useShortcutKeys';
import { useOpenDemoStudyOnLogin } from './identity/useDemoStudy';
import { AiButton, FindingsPanel } from './ai/FindingsPanel';
import { useAiHeatmapLayer } from './ai/useAiHeatmapLayer';
import { MprButton } from './viewer/mpr/MprButton';
import { LazyMprView } from './viewer/mpr/LazyMprView';
import { keyObjectTarget, useKeyImageLayer } from './keyimages/useKeyImageLayer';
import { measurementReportTarget } from './measurements/measurementReportTarget';
import { useLinkedViewing } from './viewer/linking/useLinkedViewing';
import { LinkControls } from './viewer/linking/LinkControls';
import { usePriorComparison } from './viewer/linking/usePriorComparison';
import { PriorNotice } from './viewer/linking/PriorNotice';
import { useHanging } from './hanging/useHanging';
import type { ViewportImageLayer } from './viewer/types';
import './viewer/linking/linking.css';

type Panel = 'tags' | 'measurements' | 'help' | 'ai' | null;

/**
 * Each viewport shows its image's and study's verification; the viewer itself knows nothing of the
 * ledger. Above them, when the image on screen is a PACS copy whose bytes differ from the library's
 * image of the same SOP Instance UID, which PACS it came from (its verdict is in the badge below).
 */
const verificationBadges: ViewportBadges = (viewport) => {
  const copy = viewport.ready ? copySourceOf(viewport.instanceId) : null;
  return (
    <>
      {copy && (
        <div className="vsource" data-testid="viewer-source" data-source={copy} title="The PACS returned this image with other bytes than the image of the same SOP Instance UID in the library. Its own verification is shown below.">
          PACS copy · {sourceName(copy)} — differs from the library's image
        </div>
      )}
      <ViewerBadges {...viewport} />
    </>
  );
};

export function App() {
  const ledger = useLedgerStatus();
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [tool, setTool] = useState<ToolName>('Wwwc');
  const [layout, setLayout] = useState<Layout>('1x1');
  const [series, setSeries] = useState<(SeriesView | null)[]>([null, null, null, null]);
  const [active, setActive] = useState(0);
  const [overlays, setOverlays] = useState(true);
  const [panel, setPanel] = useState<Panel>(null);
  const [statuses, setStatuses] = useState<(ViewportStatus | null)[]>([null, null, null, null]);
  const { dragging: fileDrag, dropped } = useFileDrop();
  const [openError, setOpenError] = useState<string | null>(null);
  const [openNotice, setOpenNotice] = useState<string | null>(null);
  // A notice is read once; it must not stay over the image.
  useEffect(() => {
    if (!openNotice) return;
    const t = setTimeout(() => setOpenNotice(null), 12_000);
    return () => clearTimeout(t);
  }, [openNotice]);
  const [mprSeries, setMprSeries] = useState<number | null>(null);
  // The instance lists of the series on screen (and the MPR's volume check of them) are kept while
  // they are shown, not read again from the index for a click a minute later (library/instanceList).
  useEffect(() => {
    const release = series.flatMap((v) => {
      if (!v) return [];
      const id = Number(v.seriesId);
      const source = sourceOfView(v);
      // The MPR and its button read the library's own list of the series, whatever the view's source.
      return source ? [holdInstanceList(id, source), holdInstanceList(id)] : [holdInstanceList(id)];
    });
    return () => release.forEach((r) => r());
  }, [series]);
  const apis = useViewportApis(4);
  const activeRef = useRef(active);
  activeRef.current = active;
  const modalityRef = useRef('');
  modalityRef.current = statuses[active]?.modality ?? '';

  useEffect(() => {
    call('app.info', {}).then(setInfo, () => undefined);
  }, []);

  const api = useCallback(() => apis[activeRef.current]?.current ?? null, [apis]);

  const keyOnlyRef = useRef<(index: number, on: boolean) => void>(() => undefined);
  /** `source`: the series as a PACS returned it (its copies); `keyOnly`: open filtered to the key images. */
  const openSeries = useCallback(async (index: number, seriesId: number, opts: { source?: string | null; keyOnly?: boolean; fresh?: boolean } = {}): Promise<void> => {
    const keyOnly = opts.keyOnly ?? false;
    // The viewports' queued read-ahead stops now: it would go before this series' list and first image.
    cancelPrefetch();
    try {
      // fresh: a new view, so the viewport reads its images' saved measurements again
      const view = await (opts.fresh ? freshSeriesView : seriesView)(seriesId, opts.source);
      // Key images: a KOS is not an image; its series opens the key images it names.
      const keyTarget = keyOnly ? null : await keyObjectTarget(view);
      if (keyTarget !== null) return await openSeries(index, keyTarget, { keyOnly: true });
      // A Measurement Report is not an image either: its measurements are restored on their images, which open.
      const report = keyOnly ? null : await measurementReportTarget(view);
      if (report !== null) {
        await openSeries(index, report.seriesId, { fresh: true });
        setOpenNotice(report.notice);
        return;
      }
      setOpenNotice(null);
      keyOnlyRef.current(index, keyOnly);
      // The first image is read and decoded meanwhile; it is shown only after the audit entry.
      if (!keyOnly) preloadFirstImage(view);
      // Until it is drawn, the full instance lists others ask for (badges, MPR, reference lines) wait.
      if (view.instances.length && seriesRef.current[index] !== view) firstImagePending(index);
      // The main process records who opened which patient's study (one audit entry per study opening).
      await call('audit.studyOpened', { seriesId });
      setSeries((prev) => prev.map((s, i) => (i === index ? view : s)));
      setActive(index);
      setOpenError(null);
    } catch (e) {
      firstImageDone(index);
      setOpenError(e instanceof BridgeError ? e.error.message : String(e));
    }
  }, []);

  const perform = useCallback(
    (a: ViewerAction) => {
      switch (a.kind) {
        case 'tool':
          setPrimaryTool(a.tool);
          setTool(a.tool);
          return;
        case 'preset': {
          // MR / PET: the image-relative preset with the same key (or id, from the toolbar); CT: HU.
          const rel = relativePresetsFor(modalityRef.current);
          if (rel) {
            const key = presetById(a.preset)?.key;
            const r = rel.find((x) => x.id === a.preset) ?? rel.find((x) => x.key === key);
            if (r) api()?.relativePreset(r);
            return;
          }
          const p = presetById(a.preset);
          if (p) api()?.preset(p.center, p.width);
          return;
        }
        case 'view':
          api()?.view(a.op);
          return;
        case 'scroll':
          api()?.scroll(a.delta);
          return;
        case 'cine':
          api()?.cine(a.op);
          return;
        case 'layout':
          setLayout(a.layout);
          setActive((i) => (i < LAYOUT_CELLS[a.layout] ? i : 0));
          return;
        case 'panel':
          if (a.panel === 'overlays') setOverlays((v) => !v);
          else {
            const next = a.panel;
            setPanel((p) => (p === next ? null : next));
          }
          return;
        case 'delete-measurement':
          api()?.deleteMeasurement();
          return;
        case 'external':
          return; // its own layer listens for the key
        case 'next-viewport':
          setActive((i) => (i + 1) % LAYOUT_CELLS[layout]);
          return;
        case 'close':
          setPanel(null);
          return;
      }
    },
    [api, layout],
  );

  useShortcutKeys(perform);

  const onOpenFromBrowser = useCallback((id: number, source?: string | null) => void openSeries(activeRef.current, id, { source }), [openSeries]);
  useOpenDemoStudyOnLogin(onOpenFromBrowser, series.some(Boolean));
  const onFps = useCallback((fps: number) => api()?.setFps(fps), [api]);
  const onStatus = useCallback((s: ViewportStatus) => setStatuses((prev) => prev.map((p, i) => (i === s.index ? s : p))), []);
  const onDropSeries = useCallback((i: number, id: string) => void openSeries(i, Number(id)), [openSeries]);
  const onRemoved = useCallback((ids: number[] | 'all-of-study') => {
    // Close viewports whose series left the index (their images would 404).
    setSeries((prev) => prev.map((s) => (s && (ids === 'all-of-study' || ids.includes(Number(s.seriesId))) ? null : s)));
  }, []);

  const seriesRef = useRef(series);
  seriesRef.current = series;
  // Images arriving (a PACS retrieve, the Storage SCP): an open series that grew is fetched again;
  // the viewport keeps the image on screen and scrolling reaches what has arrived.
  useEffect(() => {
    let pending = false;
    let again = false;
    const refetch = async () => {
      if (pending) {
        again = true;
        return;
      }
      pending = true;
      try {
        const open = seriesRef.current.map((s) => (s ? { id: Number(s.seriesId), source: sourceOfView(s) } : null));
        const fresh = await Promise.all(open.map((o) => (o ? freshSeriesView(o.id, o.source).catch(() => null) : null)));
        const ids = (v: { instances: { id: string }[] }) => v.instances.map((x) => x.id).join();
        // replaced only while the same view is open and it changed (so nothing re-renders for other imports)
        setSeries((prev) => prev.map((s, i) => (s && fresh[i] && s.seriesId === fresh[i]!.seriesId && sourceOfView(s) === open[i]?.source && ids(fresh[i]!) !== ids(s) ? fresh[i]! : s)));
      } finally {
        pending = false;
        if (again) {
          again = false;
          void refetch();
        }
      }
    };
    return bridge().on((e) => {
      if (e.type === 'library-changed' && e.reason === 'import' && seriesRef.current.some(Boolean)) void refetch();
    });
  }, []);
  // A removal made elsewhere (an API call, the CLI on the same app data): viewports whose series left
  // the index close, so no badge goes on speaking for images that are no longer in the library.
  useEffect(
    () =>
      bridge().on((e) => {
        if (e.type !== 'library-changed' || e.reason !== 'remove') return;
        for (const s of seriesRef.current) {
          if (!s) continue;
          call('library.instances', { seriesId: Number(s.seriesId) }).then(
            () => undefined,
            (err: unknown) => {
              if (err instanceof BridgeError && err.error.code === 'NOT_FOUND') onRemoved([Number(s.seriesId)]);
            },
          );
        }
      }),
    [onRemoved],
  );

  const cur = statuses[active] ?? null;
  const openSeriesId = series[active] ? Number(series[active]!.seriesId) : null;
  const trustUi = useTrustUi();
  const trustToolbar = useTrustToolbar(trustUi, openSeriesId !== null);
  const aiHeat = useAiHeatmapLayer(panel === 'ai');
  // Key images (src/renderer/keyimages): controls in each viewport's badge row, "Key images only", K, Save KOS.
  const keyImages = useKeyImageLayer({ series, activeInstanceId: cur?.instanceId ?? null, badges: verificationBadges, onError: setOpenError });
  keyOnlyRef.current = keyImages.setKeyOnly;
  // Linked viewing (src/renderer/viewer/linking, src/renderer/hanging): reference lines, linked scrolling / W/L, priors, hanging protocols.
  const openInto = useCallback((i: number, id: number) => openSeries(i, id), [openSeries]);
  const clearViewport = useCallback((i: number) => setSeries((prev) => prev.map((s, k) => (k === i ? null : s))), []);
  const linked = useLinkedViewing({ series: keyImages.viewSeries, statuses, active, cells: LAYOUT_CELLS[layout], apis });
  const prior = usePriorComparison({ series: keyImages.viewSeries, active, openInto, setLayout, setActive });
  const hanging = useHanging({ series: keyImages.viewSeries, statuses, apis, openInto, setLayout, setActive, clear: clearViewport, onError: setOpenError });
  const imageLayer = useMemo<ViewportImageLayer | undefined>(() => {
    const a = aiHeat.layer;
    const b = linked.layer;
    return a && b ? (ctx) => <>{a(ctx)}{b(ctx)}</> : (a ?? b);
  }, [aiHeat.layer, linked.layer]);
  const badges = useMemo(() => prior.withLabels(keyImages.badges), [prior.withLabels, keyImages.badges]);
  const unsyncedPrior = prior.comparison !== null && layout !== '1x1' && linked.unlinked.length > 0 && linked.manualCount === 0;

  return (
    <div className={`shell${fileDrag ? ' shell--dropping' : ''}`}>
      <header className="topbar">
        <span className="brand" aria-label="MedImgShr">
          <BrandMark />
          <span className="brand__name">MedImgShr</span>
        </span>
        <Toolbar
          tool={tool}
          layout={layout}
          showOverlays={overlays}
          cinePlaying={cur?.cinePlaying ?? false}
          fps={cur?.fps ?? 15}
          modality={cur?.modality ?? ''}
          panel={panel}
          onAction={perform}
          onFps={onFps}
        />
        <AiButton open={panel === 'ai'} onToggle={() => setPanel((p) => (p === 'ai' ? null : 'ai'))} />
        <MprButton seriesId={openSeriesId} open={mprSeries !== null} onToggle={() => setMprSeries((m) => (m === null ? openSeriesId : null))} />
        <LinkControls linked={linked} onCompare={() => void prior.compare()} canCompare={openSeriesId !== null && !prior.busy} />
        <TrustButtons {...trustToolbar} />
        <LedgerTopBar openSeriesId={openSeriesId} />
      </header>
      {/* The side panel and the trust drawer take their own column (stacked when both are open): the viewports shrink and re-fit, nothing covers them. */}
      <div className={`workspace${panel === 'tags' || panel === 'measurements' || panel === 'ai' ? ' workspace--side' : ''}${trustUi.drawer ? ' workspace--trust' : ''}${openSeriesId !== null ? ' workspace--reading' : ''}`} data-testid="workspace">
        <StudyPanel dropped={dropped} openSeriesId={openSeriesId} onOpenSeries={onOpenFromBrowser} onRemoved={onRemoved} onOpenStudy={(id) => void hanging.openStudy(id)} />
        {mprSeries !== null ? <LazyMprView seriesId={mprSeries} onClose={() => setMprSeries(null)} /> : <ViewportArea
          layout={layout}
          series={keyImages.viewSeries}
          active={active}
          showOverlays={overlays}
          apis={apis}
          badges={badges}
          imageLayer={imageLayer}
          onActivate={setActive}
          onDropSeries={onDropSeries}
          onStatus={onStatus}
        />}
        {panel === 'tags' && <TagInspector instanceId={cur?.instanceId ?? null} onClose={() => setPanel(null)} />}
        {panel === 'measurements' && <MeasurementPanel items={cur?.measurements ?? []} onDelete={(uuid) => api()?.deleteMeasurement(uuid)} onClose={() => setPanel(null)} footer={<SaveAsSr seriesId={openSeriesId} />} />}
        {panel === 'ai' && <FindingsPanel instanceId={cur?.instanceId ?? null} heatmapResultId={aiHeat.resultId} onHeatmap={aiHeat.show} onClose={() => setPanel(null)} />}
        <TrustLayer ui={trustUi} seriesId={openSeriesId} viewport={{ index: active, instanceId: cur?.instanceId ?? null }} />
      </div>
      <PriorNotice prior={prior} unsynced={unsyncedPrior} onSyncHere={linked.syncHere} />
      {openError && (
        <div className="toast" role="alert" onClick={() => setOpenError(null)}>
          {openError}
        </div>
      )}
      {openNotice && !openError && (
        <div className="toast toast--info" role="status" data-testid="open-notice" onClick={() => setOpenNotice(null)}>
          {openNotice}
        </div>
      )}
      {fileDrag && (
        <div className="dropzone" aria-hidden="true">
          <p>Drop DICOM files or folders to import</p>
        </div>
      )}
      {panel === 'help' && <HelpOverlay onClose={() => setPanel(null)} />}
      {keyImages.dialog}
      <StatusBar ledger={ledger} info={info} />
    </div>
  );
}
