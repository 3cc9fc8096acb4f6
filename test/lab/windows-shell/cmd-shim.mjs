#!/usr/bin/node
// The login "shell" of the lab's Windows-over-OpenSSH guest, installed as /bin/sh inside its chroot.
// sshd runs `<shell> -c <command line>`, as Win32-OpenSSH runs `cmd.exe /c <command line>`; this shim
// hands the line to the guest simulator in the test process over a Unix socket and relays its output
// and exit code. It runs nothing itself. Frames from the simulator: 1 byte type (1 stdout, 2 stderr,
// 3 exit code), 4 bytes length (big-endian), payload.
import net from 'node:net';

const [, , flag, command] = process.argv;
if (flag !== '-c' || command === undefined) {
  process.stderr.write('this simulated Windows guest runs commands only (no interactive shell)\r\n');
  process.exit(1);
}
const socket = net.connect('/run/winsim.sock');
socket.write(`${JSON.stringify({ command, user: process.env.USER ?? process.env.LOGNAME ?? '' })}\n`);
let buf = Buffer.alloc(0);
socket.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  while (buf.length >= 5) {
    const len = buf.readUInt32BE(1);
    if (buf.length < 5 + len) break;
    const type = buf[0];
    const payload = buf.subarray(5, 5 + len);
    buf = buf.subarray(5 + len);
    if (type === 1) process.stdout.write(payload);
    else if (type === 2) process.stderr.write(payload);
    else if (type === 3) process.exitCode = Number(payload.toString()) & 0xff;
  }
});
socket.on('error', (e) => {
  process.stderr.write(`simulator unreachable: ${e.message}\r\n`);
  process.exitCode = 1;
});
