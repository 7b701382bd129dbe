/**
 * Keeps a received C-STORE's data set bytes exactly as they came over the wire. dcmjs-dimse by
 * default parses them into a Dataset, and whatever later asks it for bytes gets a re-encoding
 * (DS "-48.750" becomes "-48.75", sequence lengths change, …): the stored file would then carry
 * other metadata than the PACS sent and verify as "altered: metadata" against an anchor made from
 * the original. Used by our Storage SCP (C-STORE, C-MOVE arrivals) and by the C-GET SCU, whose
 * sub-operations arrive as C-STOREs on its own association.
 */
import { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';

const { Dataset } = dimse;
type DimseDataset = InstanceType<typeof dimse.Dataset>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;

/** Collects the raw data set bytes of one C-STORE (the P-DATA fragments, in order). */
export class RawDataSetCollector extends Writable {
  readonly chunks: Buffer[] = [];
  constructor() {
    super({ highWaterMark: 1 << 24 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
}

const raw = new WeakMap<object, readonly Buffer[]>();

/**
 * An empty Dataset standing for the collected bytes (no parse: nothing is read from the data set
 * here; the UIDs come from the C-STORE command), in the presentation context's transfer syntax.
 */
export function rawDataSet(w: Writable, pc: PresentationContext): DimseDataset {
  const d = new Dataset({}, pc.getAcceptedTransferSyntaxUid());
  // kept as fragments: part10File joins them into the file in its one copy (an image is 30-odd P-DATA fragments)
  raw.set(d, w instanceof RawDataSetCollector ? w.chunks : []);
  return d;
}

/** The data set fragments, in order, a Dataset from rawDataSet stands for; undefined for any other Dataset. */
export function rawBytesOf(d: object | undefined): readonly Buffer[] | undefined {
  return d ? raw.get(d) : undefined;
}

/** The two hooks of dcmjs-dimse's Network (Scp extends it; a Client has one per association). */
export interface StoreStreamHooks {
  createStoreWritableStream(pc: PresentationContext, request: unknown): Writable;
  createDatasetFromStoreWritableStream(w: Writable, pc: PresentationContext, callback: (d: DimseDataset) => void): void;
}

/** Makes a Client's network keep raw bytes (a C-GET association: its C-STOREs are sub-operations). */
export function keepRawStores(network: StoreStreamHooks): void {
  network.createStoreWritableStream = () => new RawDataSetCollector();
  network.createDatasetFromStoreWritableStream = (w, pc, callback) => callback(rawDataSet(w, pc));
}
