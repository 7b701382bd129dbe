/**
 * A DICOM peer that accepts every association (dcmjs-dimse's Scp, first transfer syntax of each
 * context) and then answers nothing: no C-FIND / C-GET / C-MOVE response, no abort. For the bounded
 * wait of our SCU against a PACS that neither refuses nor answers.
 */
import { createServer, type Socket } from 'node:net';
import dimse from 'dcmjs-dimse';

const { Scp } = dimse;
const { PresentationContextResult } = dimse.constants;
type Assoc = InstanceType<typeof dimse.association.Association>;

export async function silentAcceptor(): Promise<{ port: number; associations(): number; close(): Promise<void> }> {
  let n = 0;
  class Silent extends Scp {
    override associationRequested(a: Assoc): void {
      n++;
      for (const c of a.getPresentationContexts() as { id: number }[]) {
        const ctx = a.getPresentationContext(c.id);
        ctx.setResult(PresentationContextResult.Accept, ctx.getTransferSyntaxUids()[0]);
      }
      this.sendAssociationAccept();
    }
    // every request is left unanswered
    override cFindRequest(): void {}
    override cGetRequest(): void {}
    override cMoveRequest(): void {}
  }
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const s = new Silent(socket, { associationTimeout: 60_000, pduTimeout: 60_000 }) as unknown as { connected: boolean; on(e: string, f: () => void): void };
    s.connected = true;
    s.on('networkError', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    associations: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
