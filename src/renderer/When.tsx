import { isoTitle, when } from './format';

/** A moment as the whole UI writes it (local time, to the second), with the ISO 8601 time on hover. */
export function When({ iso, prefix }: { iso: string | null | undefined; prefix?: string }) {
  return (
    <time dateTime={iso ?? undefined} title={isoTitle(iso)}>
      {prefix}
      {when(iso)}
    </time>
  );
}
