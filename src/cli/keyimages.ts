/**
 * Key images from the command line (docs/key-images.md):
 *   medimgshr key-images list <study>                      the study's key images and its KOS documents
 *   medimgshr key-images mark <study> <image...>           mark images (SOP Instance UID or file path)
 *   medimgshr key-images unmark <study> <image...>
 *   medimgshr key-images save <study> [--title T]          write them as a DICOM Key Object Selection document
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AppError, ErrorCode } from '../shared/errors';
import { KOS_TITLES, type KeyImageList, type KosTitleCode } from '../shared/api/keyimages';
import type { Services } from '../node/services';
import { globalOptions } from './options';
import { openServices } from './services';
import { print, table } from './output';

function studyIdOf(s: Services, uid: string): number {
  const st = s.library.studyByUid(uid.trim());
  if (!st) throw new AppError(ErrorCode.NotFound, `The study ${uid} is not in the library.`, 'Give the Study Instance UID of an imported study (see `medimgshr studies`), or import it first.');
  return st.id;
}

/** An image of the study by SOP Instance UID or by the path of its imported file. */
function instanceIdOf(s: Services, studyId: number, image: string): number {
  const byPath = s.library.instanceAtPath(resolve(image));
  if (byPath) {
    if (byPath.studyId !== studyId) throw new AppError(ErrorCode.InvalidArgument, `${image} is an image of another study.`, 'Give images of the study named first.');
    return byPath.instanceId;
  }
  const r = s.db
    .prepare('SELECT i.id FROM instances i JOIN series se ON se.id = i.series_ref WHERE i.sop_uid = ? AND se.study_ref = ?')
    .get(image.trim(), studyId) as { id: number } | undefined;
  if (!r) throw new AppError(ErrorCode.NotFound, `The study has no image ${image} in the library.`, 'Give the SOP Instance UID of one of its images or the path of an imported file (`medimgshr key-images list` shows the marked ones).');
  return r.id;
}

function titleCode(t: string | undefined): KosTitleCode | undefined {
  if (!t) return undefined;
  const hit = KOS_TITLES.find((x) => x.code === t.trim() || x.meaning.toLowerCase() === t.trim().toLowerCase());
  if (!hit) {
    throw new AppError(ErrorCode.InvalidArgument, `"${t}" is not a key object document title this app writes.`, `Use one of (code or words): ${KOS_TITLES.map((x) => `${x.code} ${x.meaning}`).join(', ')}.`);
  }
  return hit.code;
}

function human(l: KeyImageList): string {
  const lines = [`study ${l.studyInstanceUid}: ${l.images.length} key image(s)`];
  if (l.images.length) {
    lines.push(
      table([
        ['SOP Instance UID', 'series', 'in library', 'from', 'marked'],
        ...l.images.map((i) => [i.sopInstanceUid, i.seriesInstanceUid, i.instanceId !== null ? 'yes' : 'no', i.source === 'document' ? 'KOS' : i.markedBy, i.markedAt.slice(0, 19)]),
      ]).replace(/^/gm, '  '),
    );
  }
  for (const d of l.documents) lines.push(`KOS ${d.sopInstanceUid} "${d.title.meaning}" — ${d.referenced} image(s), ${d.origin === 'saved' ? 'saved here' : 'found in the study'} ${d.createdAt.slice(0, 19)}`);
  return lines.join('\n');
}

export function registerKeyImages(program: Command): void {
  const ki = program
    .command('key-images')
    .description('key images of a study: mark / unmark images, list them, save them as a DICOM Key Object Selection (KOS) document that other viewers and PACS show');

  const run = (fn: (s: Services, studyId: number) => Promise<{ value: unknown; human: () => string }>) => async (study: string, cmd: Command) => {
    const { json, home } = globalOptions(cmd);
    const s = await openServices({ home, ledger: { mode: 'none' } });
    try {
      const out = await fn(s, studyIdOf(s, study));
      print(json, out.value, out.human);
    } finally {
      await s.close();
    }
  };

  ki.command('list')
    .description("the study's key images (marked here or taken from a KOS of the study) and its KOS documents")
    .argument('<study>', 'Study Instance UID of an imported study')
    .action((study: string, _o: unknown, cmd: Command) =>
      run(async (s, id) => {
        const l = s.keyImages.list({ studyId: id });
        return { value: l, human: () => human(l) };
      })(study, cmd),
    );

  for (const verb of ['mark', 'unmark'] as const) {
    ki.command(verb)
      .description(verb === 'mark' ? 'mark images of the study as key images (marking one twice changes nothing)' : 'take images off the key images of the study')
      .argument('<study>', 'Study Instance UID of an imported study')
      .argument('<image...>', 'SOP Instance UID of an image of the study, or the path of its imported file')
      .action((study: string, images: string[], _o: unknown, cmd: Command) =>
        run(async (s, id) => {
          let changed = 0;
          let last: KeyImageList | null = null;
          for (const img of images) {
            const r = verb === 'mark' ? s.keyImages.mark(instanceIdOf(s, id, img)) : s.keyImages.unmark(instanceIdOf(s, id, img));
            if (r.changed) changed++;
            last = r;
          }
          const l = last!;
          return {
            value: { ...l, changed },
            human: () => `${changed} of ${images.length} image(s) ${verb === 'mark' ? 'marked' : 'unmarked'}${changed < images.length ? ` (${images.length - changed} already ${verb === 'mark' ? 'were key images' : 'were not key images'})` : ''}.\n${human(l)}`,
          };
        })(study, cmd),
      );
  }

  ki.command('save')
    .description('write the key images as a DICOM Key Object Selection document (a new KO series of the study, added to the library); the same images under the same title again write nothing new')
    .argument('<study>', 'Study Instance UID of an imported study')
    .option('--title <title>', `document title from DICOM CID 7010, code or words (default "Of Interest"): ${KOS_TITLES.map((t) => t.meaning).join(', ')}`)
    .option('--description <text>', 'a short note shown with the title (Key Object Description)')
    .action((study: string, o: { title?: string; description?: string }, cmd: Command) =>
      run(async (s, id) => {
        const r = await s.keyImages.save({ studyId: id, title: titleCode(o.title), description: o.description });
        return {
          value: r,
          human: () =>
            r.unchanged
              ? `Nothing new to save: KOS ${r.document.sopInstanceUid} "${r.document.title.meaning}" already names these ${r.document.referenced} image(s).\n  file ${r.filePath}`
              : `Saved KOS ${r.document.sopInstanceUid} "${r.document.title.meaning}" with ${r.document.referenced} key image(s); it is in the library as an instance of the study.\n  file ${r.filePath}`,
        };
      })(study, cmd),
    );
}
