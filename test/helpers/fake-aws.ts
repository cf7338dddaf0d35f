import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

/** node:crypto as the hash the SigV4 signer wants (HMAC when given a secret). */
class NodeSha256 {
  private readonly h;
  constructor(secret?: unknown) {
    this.h = secret ? createHmac('sha256', secret instanceof ArrayBuffer ? new Uint8Array(secret) : (secret as string | Uint8Array)) : createHash('sha256');
  }
  update(data: string | Uint8Array) {
    this.h.update(data);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

export interface AwsCall {
  service: 'sts' | 'iam';
  params: Record<string, string>;
  signatureValid: boolean;
  accessKeyId: string | undefined;
}

/**
 * A local endpoint that speaks the STS and IAM query protocols to the real SDK: it checks the
 * SigV4 signature against the known root credentials, records every call, and answers in
 * AWS's XML. `failWith` makes the next AssumeRole fail with an AWS error code.
 */
export async function fakeAws(root: { accessKeyId: string; secretAccessKey: string }) {
  const calls: AwsCall[] = [];
  const state: {
    failWith?: { code: string; status: number; times?: number };
    /** Makes IAM puts fail with this AWS error while set (`times`: only the next so many). */
    failIam?: { code: string; status: number; times?: number };
    /** The next PutRolePolicy waits for this before it is answered. */
    holdIam?: Promise<void>;
    /** Inline role policies as IAM holds them: role name → policy name → document. */
    roles: Map<string, Map<string, string>>;
    /** The clock session expirations are computed from (the broker's frozen clock in tests). */
    now?: () => number;
  } = { roles: new Map() };
  const read = (req: IncomingMessage) => new Promise<string>((r) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => r(b));
  });
  const server = createServer(async (req, res) => {
    const body = await read(req);
    const params = Object.fromEntries(new URLSearchParams(body));
    const auth = String(req.headers.authorization ?? '');
    const m = /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(auth);
    let signatureValid = false;
    if (m) {
      const [, akid, , region, service, signedHeaders, signature] = m;
      const headers: Record<string, string> = {};
      for (const h of signedHeaders!.split(';')) headers[h] = String(req.headers[h]);
      const signer = new SignatureV4({ credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey, sessionToken: req.headers['x-amz-security-token'] as string | undefined }, region: region!, service: service!, sha256: NodeSha256 });
      const amzDate = String(req.headers['x-amz-date']);
      const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
      const signed = await signer.sign(
        { method: req.method!, protocol: 'http:', hostname: String(req.headers.host).split(':')[0]!, port: Number(String(req.headers.host).split(':')[1]), path: req.url!, headers, body, query: {} },
        { signingDate },
      );
      signatureValid = akid === root.accessKeyId && String(signed.headers.authorization).endsWith(`Signature=${signature}`);
    }
    const service = params.Action === 'AssumeRole' ? 'sts' : 'iam';
    calls.push({ service, params, signatureValid, accessKeyId: m?.[1] });
    res.setHeader('Content-Type', 'text/xml');
    if (!signatureValid) {
      res.statusCode = 403;
      return res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>bad signature</Message></Error><RequestId>1</RequestId></ErrorResponse>`);
    }
    if (params.Action === 'AssumeRole') {
      if (state.failWith) {
        const { code, status } = state.failWith;
        if (!state.failWith.times || --state.failWith.times <= 0) state.failWith = undefined;
        res.statusCode = status;
        return res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${code} for the test</Message></Error><RequestId>1</RequestId></ErrorResponse>`);
      }
      const exp = new Date((state.now ?? Date.now)() + Number(params.DurationSeconds) * 1000).toISOString();
      return res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<SourceIdentity>${params.SourceIdentity}</SourceIdentity>
<AssumedRoleUser><AssumedRoleId>AROATEST:${params.RoleSessionName}</AssumedRoleId><Arn>${params.RoleArn}/${params.RoleSessionName}</Arn></AssumedRoleUser>
<Credentials><AccessKeyId>ASIATESTSESSION</AccessKeyId><SecretAccessKey>session-secret-${calls.length}</SecretAccessKey><SessionToken>session-token-${calls.length}</SessionToken><Expiration>${exp}</Expiration></Credentials>
<PackedPolicySize>12</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>r-${calls.length}</RequestId></ResponseMetadata></AssumeRoleResponse>`);
    }
    const iamError = (status: number, code: string) => {
      res.statusCode = status;
      return res.end(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>for the test</Message></Error><RequestId>1</RequestId></ErrorResponse>`);
    };
    const role = () => {
      if (!state.roles.has(params.RoleName!)) state.roles.set(params.RoleName!, new Map());
      return state.roles.get(params.RoleName!)!;
    };
    if (params.Action === 'PutRolePolicy') {
      const hold = state.holdIam;
      state.holdIam = undefined;
      if (hold) await hold;
      if (state.failIam) {
        const { code, status } = state.failIam;
        if (state.failIam.times !== undefined && --state.failIam.times <= 0) state.failIam = undefined;
        return iamError(status, code);
      }
      role().set(params.PolicyName!, params.PolicyDocument!);
      return res.end(`<PutRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>p-${calls.length}</RequestId></ResponseMetadata></PutRolePolicyResponse>`);
    }
    if (params.Action === 'GetRolePolicy') {
      const doc = role().get(params.PolicyName!);
      if (doc === undefined) return iamError(404, 'NoSuchEntity');
      return res.end(`<GetRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRolePolicyResult><PolicyName>${params.PolicyName}</PolicyName><RoleName>${params.RoleName}</RoleName><PolicyDocument>${encodeURIComponent(doc)}</PolicyDocument></GetRolePolicyResult><ResponseMetadata><RequestId>g-${calls.length}</RequestId></ResponseMetadata></GetRolePolicyResponse>`);
    }
    if (params.Action === 'ListRolePolicies') {
      const members = [...role().keys()].map((n) => `<member>${n}</member>`).join('');
      return res.end(`<ListRolePoliciesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListRolePoliciesResult><PolicyNames>${members}</PolicyNames><IsTruncated>false</IsTruncated></ListRolePoliciesResult><ResponseMetadata><RequestId>l-${calls.length}</RequestId></ResponseMetadata></ListRolePoliciesResponse>`);
    }
    if (params.Action === 'DeleteRolePolicy') {
      if (!role().delete(params.PolicyName!)) return iamError(404, 'NoSuchEntity');
      return res.end(`<DeleteRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>d-${calls.length}</RequestId></ResponseMetadata></DeleteRolePolicyResponse>`);
    }
    res.statusCode = 400;
    res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>no</Message></Error></ErrorResponse>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, calls, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}
