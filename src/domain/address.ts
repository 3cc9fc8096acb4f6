// The machine address a request may name: an IPv4 or IPv6 literal or a DNS name.

const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function isValidAddress(address: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return address.split('.').every((o) => Number(o) <= 255);
  if (address.includes(':')) return /^[0-9A-Fa-f:.]+$/.test(address) && address.split(':').length <= 8 + 1;
  return HOST.test(address);
}
