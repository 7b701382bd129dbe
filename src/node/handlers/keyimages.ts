import type { keyImageChannels } from '../../shared/api/keyimages';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type KeyImageChannel = keyof typeof keyImageChannels;

/** Key images and their KOS documents (src/node/keyimages). */
export function keyImageHandlers(s: Services): Pick<HandlerTable, KeyImageChannel> {
  return {
    'keyImages.list': (r) => s.keyImages.list(r),
    'keyImages.mark': (r) => s.keyImages.mark(r.instanceId),
    'keyImages.unmark': (r) => s.keyImages.unmark(r.instanceId),
    'keyImages.save': (r) => s.keyImages.save(r),
  };
}
