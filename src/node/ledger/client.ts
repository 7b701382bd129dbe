/**
 * The connection to the MedImgShr contract on the ledger the app is connected to: the shared
 * provider, the contract address (embedded chain: deployed once per chain by the embedded node;
 * remote chain: configured), and typed contract instances for reading and for the unlocked signer.
 */
import { getAddress, Network, type JsonRpcProvider, type Signer } from 'ethers';
import { connect, deployMedImgShr, type MedImgShr } from './contracts';
import type { IdentityService } from '../identity';
import type { Logger } from '../log';
import type { LedgerConnection } from './connection';
import { ReportingJsonRpcProvider } from './provider';
import { AppError, ErrorCode } from '../../shared/errors';
import { type LedgerSettings } from './settings';

export interface ChainConnection {
  provider: JsonRpcProvider;
  chainId: number;
  /** Checksummed contract address. */
  address: string;
  /** Read-only contract on the provider. */
  contract: MedImgShr;
  /** Block the contract was deployed in (sync starts there), when known. */
  deployBlock: number | null;
}

export interface ChainOptions {
  /** Use this contract address (remote chains); else MEDIMG_CONTRACT_ADDRESS, the stored setting, or the embedded deployment. */
  contractAddress?: string;
  /** Block to start syncing at on a remote chain (default 0). */
  fromBlock?: number;
}

export const unreachableError = (detail?: string | null) =>
  new AppError(
    ErrorCode.LedgerUnreachable,
    `The ledger cannot be reached${detail ? `: ${detail.replace(/\.+$/, '')}` : ''}.`,
    'Check that the ledger node is running and reachable; nothing was lost. Try again when it is connected.',
  );

export class ChainAccess {
  private cached: { key: string; conn: ChainConnection } | null = null;
  /** Own read provider: no batch stall (ethers waits 10 ms by default to batch), so one verification is one round trip. */
  private reader: { key: string; provider: JsonRpcProvider } | null = null;
  private resolving: Promise<ChainConnection | null> | null = null;

  constructor(
    private readonly deps: { connection: LedgerConnection; identity: IdentityService; log: Logger },
    private readonly settings: LedgerSettings,
    private readonly opts: ChainOptions = {},
  ) {
    // A restarted/replaced node may be a different chain: look the contract up again.
    deps.connection.monitor.on('change', (st) => {
      if (st.state !== 'connected') this.cached = null;
    });
  }

  /** Forget the resolved address (after a chain reset). */
  invalidate(): void {
    this.cached = null;
  }

  close(): void {
    this.reader?.provider.destroy();
    this.reader = null;
    this.cached = null;
  }

  /** The connection, or null when the ledger is not connected or has no contract. */
  async connection(): Promise<ChainConnection | null> {
    const st = this.deps.connection.monitor.current();
    if (st.state !== 'connected') return null;
    if (!this.deps.connection.provider.current() || st.chainId === null || !st.rpcUrl) return null;
    const key = `${st.rpcUrl}#${st.chainId}`;
    if (this.reader?.key !== key) {
      this.reader?.provider.destroy();
      const net = Network.from(st.chainId);
      this.reader = {
        key,
        provider: new ReportingJsonRpcProvider(st.rpcUrl, st.rpcUrl, net, { staticNetwork: net, batchStallTime: 0, cacheTimeout: -1, pollingInterval: 100 }, this.deps.connection.reportFailure),
      };
    }
    const provider = this.reader.provider;
    if (this.cached?.key === key && this.cached.conn.provider === provider) return this.cached.conn;
    this.resolving ??= this.resolve(provider, st.chainId, key).finally(() => {
      this.resolving = null;
    });
    return this.resolving;
  }

  /** Why the last lookup found no contract (null when it found one, or the ledger is simply down). */
  problem: string | null = null;

  /** The connection, or a LEDGER_UNREACHABLE AppError. */
  async require(): Promise<ChainConnection> {
    const c = await this.connection();
    if (!c) {
      if (this.deps.connection.monitor.current().state === 'connected' && this.problem) {
        throw new AppError(ErrorCode.LedgerUnreachable, `The ledger answers, but ${this.problem}.`, 'Set the MedImgShr contract address for this chain in the ledger settings (or MEDIMG_CONTRACT_ADDRESS).');
      }
      throw unreachableError(this.deps.connection.monitor.current().message);
    }
    return c;
  }

  /** The contract bound to the unlocked identity's signer (LOCKED error when none is unlocked). */
  async writer(): Promise<{ conn: ChainConnection; signer: Signer; contract: MedImgShr }> {
    const conn = await this.require();
    const signer = this.deps.identity.signer();
    return { conn, signer, contract: conn.contract.connect(signer) };
  }

  private async resolve(provider: JsonRpcProvider, chainId: number, key: string): Promise<ChainConnection | null> {
    let address: string | null = null;
    let deployBlock: number | null = null;
    const configured = this.opts.contractAddress ?? process.env.MEDIMG_CONTRACT_ADDRESS ?? this.settings.get(`contract:${chainId}`);
    const node = this.deps.connection.embeddedNode;
    if (configured) {
      address = getAddress(configured);
      const fb = this.settings.get(`fromBlock:${chainId}`);
      deployBlock = this.opts.fromBlock ?? (fb ? Number(fb) : 0);
    } else if (node && node.rpcUrl === this.deps.connection.monitor.current().rpcUrl) {
      const r = await node.deployOnFirstStart('MedImgShr', async (signer) => {
        const c = await deployMedImgShr(signer);
        return c.getAddress();
      });
      address = r.address;
      deployBlock = r.deployed ? Math.max(0, (r.block ?? 1) - 1) : (r.block !== null ? Math.max(0, r.block - 1) : 0);
      if (r.deployed) this.deps.log.info('ledger: MedImgShr deployed on the embedded chain', { address, block: r.block });
    }
    if (!address) {
      this.problem = `no MedImgShr contract address is configured for chain ${chainId}`;
      return null;
    }
    if ((await provider.getCode(address)) === '0x') {
      this.problem = `there is no contract at ${address} on chain ${chainId}`;
      this.deps.log.warn('ledger: no contract code at the configured address', { address, chainId });
      return null;
    }
    this.problem = null;
    const conn: ChainConnection = { provider, chainId, address, contract: connect(address, provider), deployBlock };
    this.cached = { key, conn };
    return conn;
  }
}
