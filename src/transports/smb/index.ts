// Public surface of the SMB2/3 client.
export { SmbClient, smbPath } from './client.ts';
export type { SmbConnectOptions, FreeSpace, FileStat } from './client.ts';
export type { OpOptions } from './types.ts';
export type { PutOptions, GetOptions, TransferResult } from './transfer.ts';
export type { DirectoryEntry } from './packets.ts';
export { Dialect } from './packets.ts';
export { SmbError, AsrCode, asrCodeForStatus } from './errors.ts';
export { NtStatus, ntStatusName } from './ntstatus.ts';
export { SmbFileChannel, ADMIN_SHARE } from './file-channel.ts';
export { smbToPushError } from './push-errors.ts';
