import { getAddress } from 'ethers';
import type { settingsChannels, LedgerEndpointSettings } from '../../shared/api/settings';
import { AppError, ErrorCode } from '../../shared/errors';
import { startDemo } from '../ledger';
import { LedgerSettings } from '../ledger/settings';
import { jsonRpc, networkReason } from '../net';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

function current(s: Services): LedgerEndpointSettings {
  const mode = s.ledgerMode;
  const status = s.ledger.current();
  const saved = new LedgerSettings(s.db).endpoint();
  const contract =
    mode.mode === 'remote' && saved?.mode === 'remote' && saved.rpcUrl === mode.rpcUrl
      ? saved.contractAddress
      : status.chainId !== null
        ? new LedgerSettings(s.db).get(`contract:${status.chainId}`)
        : null;
  return {
    mode: mode.mode,
    rpcUrl: status.rpcUrl,
    chainId: mode.mode === 'remote' && saved?.mode === 'remote' ? saved.chainId : status.chainId,
    contractAddress: contract,
    source: s.ledgerSource,
  };
}

/** Checks a consortium endpoint before anything is saved: it answers, it is the chain the user named, the contract is there. */
async function checkRemote(rpcUrl: string, chainId: number, contractAddress: string): Promise<void> {
  let answered: string;
  try {
    answered = await jsonRpc<string>(rpcUrl, 'eth_chainId', [], 5000);
  } catch (err) {
    throw new AppError(
      ErrorCode.LedgerUnreachable,
      `${rpcUrl} does not answer (${networkReason(err)}).`,
      'Check the address and that the node is running and reachable from this workstation; nothing was changed.',
    );
  }
  const actual = Number.parseInt(answered, 16);
  if (actual !== chainId) {
    throw new AppError(
      ErrorCode.InvalidArgument,
      `${rpcUrl} is chain ${actual}, not chain ${chainId}.`,
      'Use the chain id your region published for its ledger; nothing was changed.',
    );
  }
  const code = await jsonRpc<string>(rpcUrl, 'eth_getCode', [contractAddress, 'latest'], 5000);
  if (!code || code === '0x') {
    throw new AppError(
      ErrorCode.InvalidArgument,
      `There is no contract at ${contractAddress} on chain ${chainId}.`,
      'Check the MedImgShr contract address your region published; nothing was changed.',
    );
  }
}

export function settingsHandlers(s: Services): Pick<HandlerTable, keyof typeof settingsChannels> {
  return {
    'settings.ledger.get': () => current(s),
    'settings.ledger.set': async (req) => {
      if (s.ledgerSource === 'environment') {
        throw new AppError(
          ErrorCode.Conflict,
          'The ledger is set by the MEDIMG_RPC_URL environment variable, which overrides the settings.',
          'Start MedImgShr without MEDIMG_RPC_URL to choose the ledger here.',
        );
      }
      if (req.mode === 'remote') {
        const address = getAddress(req.contractAddress);
        await checkRemote(req.rpcUrl, req.chainId, address);
        new LedgerSettings(s.db).set(`contract:${req.chainId}`, address);
        new LedgerSettings(s.db).saveEndpoint({ mode: 'remote', rpcUrl: req.rpcUrl, chainId: req.chainId, contractAddress: address });
        await s.switchLedger({ mode: 'remote', rpcUrl: req.rpcUrl });
      } else {
        new LedgerSettings(s.db).saveEndpoint({ mode: 'embedded' });
        await s.switchLedger({ mode: 'embedded' });
      }
      s.ledgerService.chain.invalidate();
      startDemo(s.ledgerService);
      return { settings: current(s), status: s.ledger.current() };
    },
  };
}
