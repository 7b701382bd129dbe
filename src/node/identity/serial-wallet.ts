/**
 * A Wallet whose transactions from one account go out one at a time in this process. The outbox
 * (queued anchors) and a direct write (a consent, a share) can use the same account at the same
 * moment; each would read the same pending nonce and one would be refused ("nonce too low"). Sending
 * waits for the account's previous send to be broadcast, so the next one reads a nonce past it.
 */
import { Wallet, type Provider, type SigningKey, type TransactionRequest, type TransactionResponse } from 'ethers';

const tails = new Map<string, Promise<unknown>>();

export class SerialWallet extends Wallet {
  constructor(key: string | SigningKey, provider?: Provider | null) {
    super(key, provider);
  }

  override connect(provider: Provider | null): SerialWallet {
    return new SerialWallet(this.signingKey, provider);
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const prev = tails.get(this.address) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => super.sendTransaction(tx));
    const tail = run.catch(() => undefined);
    tails.set(this.address, tail);
    try {
      return await run;
    } finally {
      if (tails.get(this.address) === tail) tails.delete(this.address);
    }
  }
}
