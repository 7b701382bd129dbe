import { useCallback, useMemo, useState } from 'react';
import type { AiResult } from '../../shared/api';
import type { ViewportImageLayer } from '../viewer/types';
import { decodeBase64, HeatmapOverlay } from './HeatmapOverlay';

/** The heat map the findings panel switched on, as a layer over the viewport showing its image. */
export function useAiHeatmapLayer(panelOpen: boolean): { layer: ViewportImageLayer | undefined; resultId: number | null; show(r: AiResult | null): void } {
  const [shown, setShown] = useState<{ result: AiResult; values: Uint8Array } | null>(null);
  const show = useCallback((r: AiResult | null) => setShown(r?.heatMap ? { result: r, values: decodeBase64(r.heatMap.uint8Base64) } : null), []);
  const layer = useMemo<ViewportImageLayer | undefined>(() => {
    if (!panelOpen || !shown || !shown.result.heatMap) return undefined;
    const { result, values } = shown;
    const hm = result.heatMap!;
    return (vp) =>
      vp.instanceId !== null && Number(vp.instanceId) === result.instanceId ? (
        <HeatmapOverlay values={values} width={hm.width} height={hm.height} imageSize={vp.imageSize} imageToScreen={vp.imageToScreen} />
      ) : null;
  }, [panelOpen, shown]);
  return { layer, resultId: panelOpen && shown ? shown.result.id : null, show };
}
