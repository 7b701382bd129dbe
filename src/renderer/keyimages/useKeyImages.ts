/**
 * The key images of the studies open in the viewports (keyImages.* channels), refetched when the library changes
 * (a KOS arriving from a PACS marks its images). Marks are per study; the viewer asks by series.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { KeyImageList, KosSaveResult, KosTitleCode } from '../../shared/api';
import { bridge, call } from '../bridge';

export interface KeyImagesState {
  /** Instance ids (as the viewer writes them) of every key image of the open studies. */
  keyIds: ReadonlySet<string>;
  /** The key images of the study of a series (null until fetched). */
  listOf(seriesId: number | null): KeyImageList | null;
  toggle(instanceId: number): Promise<void>;
  save(seriesId: number, title: KosTitleCode, description: string): Promise<KosSaveResult>;
}

export function useKeyImages(seriesIds: (number | null)[]): KeyImagesState {
  const [lists, setLists] = useState<ReadonlyMap<number, KeyImageList>>(new Map()); // by study id
  const [studyOf, setStudyOf] = useState<ReadonlyMap<number, number>>(new Map()); // series id → study id
  const [version, setVersion] = useState(0);
  const wanted = [...new Set(seriesIds.filter((x): x is number => x !== null))].sort((a, b) => a - b).join(',');

  useEffect(() => {
    let live = true;
    for (const id of wanted ? wanted.split(',').map(Number) : []) {
      call('keyImages.list', { seriesId: id }).then(
        (l) => {
          if (!live) return;
          setLists((m) => new Map(m).set(l.studyId, l));
          setStudyOf((m) => (m.get(id) === l.studyId ? m : new Map(m).set(id, l.studyId)));
        },
        () => undefined, // a series removed meanwhile: its viewport closes, nothing to mark
      );
    }
    return () => {
      live = false;
    };
  }, [wanted, version]);

  useEffect(() => bridge().on((e) => e.type === 'library-changed' && setVersion((v) => v + 1)), []);

  const keyIds = useMemo(() => new Set([...lists.values()].flatMap((l) => l.images.flatMap((i) => (i.instanceId !== null ? [String(i.instanceId)] : [])))), [lists]);
  const listOf = useCallback((seriesId: number | null) => (seriesId === null ? null : (lists.get(studyOf.get(seriesId) ?? -1) ?? null)), [lists, studyOf]);
  const toggle = useCallback(
    async (instanceId: number) => {
      const r = await call(keyIds.has(String(instanceId)) ? 'keyImages.unmark' : 'keyImages.mark', { instanceId });
      setLists((m) => new Map(m).set(r.studyId, r));
    },
    [keyIds],
  );
  const save = useCallback(
    async (seriesId: number, title: KosTitleCode, description: string) => {
      const l = listOf(seriesId) ?? (await call('keyImages.list', { seriesId }));
      const r = await call('keyImages.save', { studyId: l.studyId, title, ...(description.trim() ? { description: description.trim() } : {}) });
      setLists((m) => new Map(m).set(r.list.studyId, r.list));
      return r;
    },
    [listOf],
  );
  return useMemo(() => ({ keyIds, listOf, toggle, save }), [keyIds, listOf, toggle, save]);
}
