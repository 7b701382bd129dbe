import type { AppEvent } from '../shared/api';
import type { AppHome } from './app-home';
import type { Logger } from './log';
import type { Db } from './store/database';
import type { TaskRegistry } from './tasks';

/**
 * The infrastructure every domain shares (database, log, folders, the event channel to the
 * renderer, long tasks). Domains get their collaborators (other domains) passed in by name;
 * this holds only what is not a domain.
 */
export interface AppContext {
  readonly db: Db;
  readonly log: Logger;
  readonly home: AppHome;
  readonly tasks: TaskRegistry;
  emit(event: AppEvent): void;
}
