import type { shareChannels } from '../../shared/api/share';
import { ensureDemoPartner } from '../ledger/demo-partner';
import { importKeyCard, makeKeyCard } from '../ledger/public-keys';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type ShareChannel = keyof typeof shareChannels;

/** The share gate, send, consent, receive and key cards (src/node/share). */
export function shareHandlers(s: Services): Pick<HandlerTable, ShareChannel> {
  return {
    'share.gate': (r) => s.share.gate(r.studyInstanceUid, r.recipient),
    'share.send': (r) => s.tasks.run('share', null, (task) => s.share.send(r.studyInstanceUid, r.recipient, task, { byMetadata: r.byMetadata })),
    'share.collectConsent': (r) => s.share.collectConsent(r),
    'share.revokeConsent': (r) => s.share.revokeConsent(r),
    'share.walletConsentTypedData': (r) => s.share.walletConsentTypedData(r),
    'share.submitWalletConsent': (r) => s.share.submitWalletConsent(r),
    'share.patientConsents': (r) => s.share.patientConsents(r.patient),
    'share.receive': (r) => s.tasks.run('receive', null, (task) => s.share.receive(r.path, task)),
    'share.keyCard': (r) => makeKeyCard(s.identity.signer(), r.label ?? s.identity.current()?.displayName ?? null),
    'share.importKeyCard': (r) => importKeyCard(s, r.card),
    'share.demoPartner': () => ensureDemoPartner(s.ledgerService),
  };
}
