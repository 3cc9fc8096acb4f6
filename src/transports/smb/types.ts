// What the SMB client and the bulk transfer share: declared here so that transfer.ts needs only this
// interface of the client, not the client itself (which calls into transfer.ts).
import type { Response } from './connection.ts';
import type { CreateParams, CreateResponse } from './packets.ts';

export interface OpOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** An open handle. */
export interface SmbFile {
  fileId: Buffer;
  create: CreateResponse;
}

/** The handle-level requests of one share (tree) that a transfer is built from: SmbClient. */
export interface SmbFileIo {
  /** Bytes per READ/WRITE. */
  readonly ioSize: number;
  /** READ/WRITE requests kept in flight. */
  readonly parallelIo: number;
  open(path: string, p: Omit<CreateParams, 'name'>, o?: OpOptions): Promise<SmbFile>;
  closeFile(file: SmbFile, o?: OpOptions): Promise<void>;
  /** Runs `fn` on an open handle and closes it whatever happens. */
  withFile<T>(path: string, p: Omit<CreateParams, 'name'>, o: OpOptions, fn: (f: SmbFile) => Promise<T>): Promise<T>;
  setDeletePending(file: SmbFile, o?: OpOptions): Promise<void>;
  request(command: number, body: Buffer, o?: OpOptions & { creditCharge?: number }): Promise<Response>;
  requestPacket(command: number, packet: Buffer, o?: OpOptions & { creditCharge?: number }): Promise<Response>;
}
