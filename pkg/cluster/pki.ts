// A throwaway certificate authority made with `openssl` for an etcd served over TLS with client-certificate
// auth: the cluster harness's `etcdTls` mode and the TLS tests of test/helpers/etcd.ts. Unencrypted EC keys,
// valid two days; nothing here is meant to leave the test or demo directory it is made in.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway CA and certificates signed by it (PEM files, unencrypted keys). */
export interface TestPki {
  caFile: string;
  /** For etcd: SANs `localhost`, 127.0.0.1, `serverNames` and `serverIps`, usable for server and client auth. */
  serverCertFile: string;
  serverKeyFile: string;
  /** For clients: client auth only. */
  clientCertFile: string;
  clientKeyFile: string;
}

export interface TestPkiOptions {
  /** The CA's common name (and the certificates' name prefix). */
  caName?: string;
  /** More DNS SANs for the server certificate, besides `localhost`. */
  serverNames?: string[];
  /** More IP SANs for the server certificate, besides 127.0.0.1. */
  serverIps?: string[];
}

/** Where makeTestPki puts its files in `dir` (they exist once it has run there). */
export function testPkiFiles(dir: string): TestPki {
  return {
    caFile: join(dir, 'ca.crt'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
  };
}

const openssl = (cwd: string, ...args: string[]) => run('openssl', args, { cwd });

/** Makes a CA and a server and a client certificate it signs, in `dir` (created). */
export async function makeTestPki(dir: string, options: TestPkiOptions = {}): Promise<TestPki> {
  const caName = options.caName ?? 'tsnet-test-ca';
  const sans = [
    'DNS:localhost',
    'IP:127.0.0.1',
    ...(options.serverNames ?? []).map((n) => `DNS:${n}`),
    ...(options.serverIps ?? []).map((a) => `IP:${a}`),
  ];
  mkdirSync(dir, { recursive: true });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    dir,
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    `/CN=${caName}`,
  );
  const issue = async (name: string, extensions: string[]): Promise<void> => {
    writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
    await openssl(
      dir,
      'req',
      ...ecKey,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${caName}-${name}`,
    );
    await openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
  };
  await issue('server', [
    `subjectAltName=${sans.join(',')}`,
    'keyUsage=critical,digitalSignature',
    // etcd also dials itself (grpc-gateway) with its server certificate as the client one.
    'extendedKeyUsage=serverAuth,clientAuth',
  ]);
  await issue('client', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth']);
  return testPkiFiles(dir);
}
