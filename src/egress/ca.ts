// The per-run certificate authority: `stint run` terminates TLS for the hosts its proxy must read
// with leaf certificates of a CA made for this run only (its key never leaves the supervisor's
// memory; the sandbox gets the certificate to trust). ECDSA P-256: a leaf costs about a
// millisecond, and one leaf key serves every host of the run.
import { randomBytes, webcrypto } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const pemKey = async (k: CryptoKey) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k as any)).toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
const serial = () => `01${randomBytes(15).toString('hex')}`;

export interface RunCa {
  /** The CA certificate (PEM), for the sandbox to trust. */
  certPem: string;
  /** A TLS context presenting a certificate for `host`, made on first use. */
  contextFor(host: string): Promise<SecureContext>;
}

export async function createRunCa(name = 'stint run'): Promise<RunCa> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name} CA ${randomBytes(4).toString('hex')}`,
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const leafKeyPem = await pemKey(leafKeys.privateKey);
  const certPem = ca.toString('pem');
  const contexts = new Map<string, Promise<SecureContext>>();
  const make = async (host: string) => {
    const isIp = /^[0-9.]+$|:/.test(host);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${host}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALG,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.SubjectAlternativeNameExtension([isIp ? { type: 'ip', value: host } : { type: 'dns', value: host }]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      ],
    });
    return createSecureContext({ key: leafKeyPem, cert: `${leaf.toString('pem')}\n${certPem}` });
  };
  return {
    certPem,
    contextFor(host) {
      const h = host.toLowerCase();
      let c = contexts.get(h);
      if (!c) contexts.set(h, (c = make(h)));
      return c;
    },
  };
}
