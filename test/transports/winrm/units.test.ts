// Unit tests of the WinRM pieces that need no server: the HTTP-SPNEGO framing with real NTLM contexts
// (round trip, sequence numbers, tampering), the XML reader, xs:duration, and the error mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NtlmSession, ntHash } from '../../../src/transports/ntlm/index.ts';
import { NtlmServer } from '../../lab/ntlm-server.ts';
import { PushError } from '../../../src/errors/push-error.ts';
import {
  WinrmAuthError, WsmanFault, decryptMessage, descendants, encryptMessage, formatDuration, parseDuration, parseXml, toPushError, xmlEscape,
} from '../../../src/transports/winrm/index.ts';
import { HttpConnectionError } from '../../../src/transports/winrm/http-connection.ts';
import { isOperationTimeout } from '../../../src/transports/winrm/protocol.ts';

function contexts(): { client: NtlmSession; server: NtlmServer } {
  const client = new NtlmSession();
  const server = new NtlmServer({ computerName: 'WIN2016', domainName: 'WIN2016' });
  const challenge = server.processNegotiate(client.createNegotiate());
  const auth = client.processChallenge(challenge, { username: '.\\admin', password: 'pw-1' });
  server.processAuthenticate(auth, () => ntHash('pw-1'));
  return { client, server };
}

test('encryption: framing matches MS-WSMV 2.2.9.1.1 byte for byte and round-trips in both directions', () => {
  const { client, server } = contexts();
  const soap = Buffer.from('<s:Envelope>héllo ✓</s:Envelope>');
  const body = encryptMessage(soap, (m) => client.seal(m));
  const text = body.toString('latin1');
  assert.ok(text.startsWith('--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n'
    + `\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${soap.length}\r\n`
    + '--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n'));
  assert.ok(text.endsWith('--Encrypted Boundary--\r\n'));
  const head = body.indexOf('application/octet-stream\r\n') + 'application/octet-stream\r\n'.length;
  assert.equal(body.readUInt32LE(head), 16);
  assert.equal(body.length, head + 4 + 16 + soap.length + '--Encrypted Boundary--\r\n'.length);
  assert.ok(!body.includes(Buffer.from('héllo')), 'the SOAP is not readable on the wire');
  assert.ok(decryptMessage(body, (d, s) => server.unseal(d, s)).equals(soap));
  // Several messages in a row: sequence numbers and RC4 state advance in step on both sides.
  for (let i = 0; i < 3; i++) {
    const up = Buffer.from(`request ${i}`);
    assert.ok(decryptMessage(encryptMessage(up, (m) => client.seal(m)), (d, s) => server.unseal(d, s)).equals(up));
    const down = Buffer.from(`reply ${i}`);
    assert.ok(decryptMessage(encryptMessage(down, (m) => server.seal(m)), (d, s) => client.unseal(d, s)).equals(down));
  }
  assert.ok(decryptMessage(body, () => soap).equals(soap), 'the parser finds the sealed bytes by Length, not by scanning');
});

test('encryption: a flipped bit, a replayed message or a truncated body is rejected', () => {
  const { client, server } = contexts();
  const sealed = encryptMessage(Buffer.from('<x/>'), (m) => client.seal(m));
  const tampered = Buffer.from(sealed);
  tampered[tampered.length - 30]! ^= 1;
  assert.throws(() => decryptMessage(tampered, (d, s) => server.unseal(d, s)), /signature/);
  const { client: c2, server: s2 } = contexts();
  const first = encryptMessage(Buffer.from('one'), (m) => c2.seal(m));
  decryptMessage(first, (d, s) => s2.unseal(d, s));
  assert.throws(() => decryptMessage(first, (d, s) => s2.unseal(d, s)), /signature/, 'a replay fails on the sequence number');
  assert.throws(() => decryptMessage(sealed.subarray(0, sealed.length - 30), (d, s) => server.unseal(d, s)), /truncated/);
  assert.throws(() => decryptMessage(sealed.subarray(0, 150), (d, s) => server.unseal(d, s)), /second part/);
  assert.throws(() => decryptMessage(Buffer.from('<s:Envelope/>'), (d, s) => server.unseal(d, s)), /expected/);
});

test('xml: namespaces by URI whatever the prefix, entities, CDATA; DTDs and bad nesting refused', () => {
  const a = parseXml('<?xml version="1.0"?><env:Envelope xmlns:env="urn:e" xmlns:r="urn:r"><env:Body><r:X Name="a&amp;b">1 &lt; 2 &#x2713;<![CDATA[<raw>]]></r:X></env:Body></env:Envelope>');
  const b = parseXml('<s:Envelope xmlns:s="urn:e"><s:Body><X xmlns="urn:r" Name="a&amp;b">1 &lt; 2 &#10003;<![CDATA[<raw>]]></X></s:Body></s:Envelope>');
  for (const root of [a, b]) {
    const [x] = descendants(root, 'urn:r', 'X');
    assert.equal(x?.text, '1 < 2 ✓<raw>');
    assert.equal(x?.attrs.get('Name'), 'a&b');
  }
  assert.throws(() => parseXml('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'), /DTD/);
  assert.throws(() => parseXml('<a><b></a></b>'), /mismatched/);
  assert.throws(() => parseXml('<p:a/>'), /undeclared prefix/);
  assert.equal(parseXml(`<a>${xmlEscape('x<y>&"\'\r\n\tz')}</a>`).text, 'x<y>&"\'\r\n\tz');
  assert.throws(() => xmlEscape('bell\u0007'), /control characters/);
});

test('duration: OperationTimeout values', () => {
  assert.equal(formatDuration(20_000), 'PT20S');
  assert.equal(formatDuration(150), 'PT0.150S');
  assert.equal(parseDuration('PT20S'), 20_000);
  assert.equal(parseDuration('PT0.150S'), 150);
  assert.equal(parseDuration('PT1M30.5S'), 90_500);
  assert.equal(parseDuration('P1DT1H'), 90_000_000);
  assert.equal(parseDuration('PT'), undefined);
  assert.equal(parseDuration('20'), undefined);
});

test('error mapping: connect failures 95103, lost connection 97118, credentials and AccessDenied 95107, faults 99020', () => {
  const ctx = { host: 'h', port: 5985, transport: 'http' as const, account: 'LAB\\u', operation: 'exec' };
  const code = (e: unknown) => toPushError(e, ctx).code;
  assert.equal(code(new HttpConnectionError('refused', 'ECONNREFUSED', 'connect')), 95103);
  assert.equal(code(new HttpConnectionError('reset', 'ECONNRESET', 'request')), 97118);
  assert.equal(toPushError(new HttpConnectionError('reset', 'ECONNRESET', 'request'), ctx).retryable, true);
  assert.equal(code(new WinrmAuthError('401')), 95107);
  assert.equal(code(new WsmanFault({ httpStatus: 500, subcode: 'w:AccessDenied', wsmanCode: '5', reason: 'Access is denied.' })), 95107);
  const fault = toPushError(new WsmanFault({ httpStatus: 500, faultCode: 's:Sender', subcode: 'w:InvalidSelectors', wsmanCode: '2150858843', reason: 'gone' }), ctx);
  assert.equal(fault.code, 99020);
  assert.deepEqual(fault.details.fault, { httpStatus: 500, faultCode: 's:Sender', subcode: 'w:InvalidSelectors', wsmanCode: '2150858843', reason: 'gone' });
  const own = new PushError(99024);
  assert.equal(toPushError(own, ctx), own);
  assert.ok(isOperationTimeout(new WsmanFault({ httpStatus: 500, wsmanCode: '2150858793', reason: 'x' })));
  assert.ok(!isOperationTimeout(new WsmanFault({ httpStatus: 500, wsmanCode: '5', reason: 'x' })));
});
