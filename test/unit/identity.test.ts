import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APIConnectionError } from 'openai';
import { STSServiceException } from '@aws-sdk/client-sts';
import { parseIni, ssoTokenCachePath } from '../../src/identity/aws-config.js';
import { parsePrincipalArn } from '../../src/identity/caller.js';
import { signInReasonOf } from '../../src/identity/credentials.js';
import { describeServiceError, redactSecrets, SignInRequiredError } from '../../src/identity/errors.js';
import { checkProofShape } from '../../src/identity/iam-authenticator.js';
import { IAM_PROOF_PREFIX } from '../../src/identity/iam-proof.js';
import { systemBrowser } from '../../src/identity/browser.js';
import { formatIdentity } from '../../src/cli/whoami.js';

describe('AWS config parsing', () => {
  it('reads profiles, sso-sessions, comments and indented sub-keys like the AWS CLI', () => {
    const ini = parseIni(`# top comment
[default]
region = us-east-1 ; trailing comment
[profile dev]
sso_session = corp
s3 =
  max_concurrent_requests = 10
output = json
[sso-session corp]
sso_start_url = https://x.awsapps.com/start
`);
    assert.equal(ini.get('default')?.region, 'us-east-1');
    assert.equal(ini.get('profile dev')?.sso_session, 'corp');
    assert.equal(ini.get('profile dev')?.['s3.max_concurrent_requests'], '10');
    assert.equal(ini.get('profile dev')?.output, 'json');
    assert.equal(ini.get('sso-session corp')?.sso_start_url, 'https://x.awsapps.com/start');
  });

  it('names cache files by the SHA-1 of the session name, as the AWS CLI does', () => {
    // echo -n my-sso | sha1sum
    assert.equal(ssoTokenCachePath({ HOME: '/h' }, 'my-sso'), '/h/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json');
  });
});

describe('principal ARNs', () => {
  it('splits assumed-role, federated and user ARNs', () => {
    assert.deepEqual(parsePrincipalArn('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_abc/alice@example.com'), {
      roleName: 'AWSReservedSSO_Dev_abc',
      sessionName: 'alice@example.com',
    });
    assert.deepEqual(parsePrincipalArn('arn:aws:sts::123456789012:federated-user/bob'), { sessionName: 'bob' });
    assert.deepEqual(parsePrincipalArn('arn:aws:iam::123456789012:user/path/carol'), {});
  });

  it('formats whoami output with expiry', () => {
    const text = formatIdentity(
      { account: '1', arn: 'arn:aws:sts::1:assumed-role/R/s', userId: 'AROA:s', roleName: 'R', sessionName: 's', expiration: new Date(90 * 60_000) },
      0,
    );
    assert.match(text, /Role:\s+R/);
    assert.match(text, /Expires:\s+1970-01-01T01:30:00.000Z \(in 90 min\)/);
  });
});

describe('sign-in classification and service errors', () => {
  it('recognises the SDK sign-in failures', () => {
    assert.equal(signInReasonOf(new Error('The SSO session associated with this profile has expired. To refresh this SSO session run aws sso login with the corresponding profile.')), 'expired');
    assert.equal(signInReasonOf(new Error("The SSO session token associated with profile=dev was not found or is invalid. To refresh this SSO session run 'aws sso login' with the corresponding profile.")), 'missing');
    assert.equal(signInReasonOf(new Error('UnauthorizedException: Session token not found or invalid')), 'rejected');
    assert.equal(signInReasonOf(new Error('connect ECONNREFUSED 127.0.0.1:1')), null);
  });

  it('finds a sign-in error behind the openai client wrapping', () => {
    const wrapped = Object.assign(new Error('Failed to resolve AWS credentials for Bedrock.'), { cause: new SignInRequiredError('dev') });
    assert.match(describeServiceError(wrapped) ?? '', /Sign-in required for AWS profile "dev".*deputy login --profile dev.*aws sso login --profile dev/);
  });

  it('explains a region without bedrock-mantle (DNS failure)', () => {
    const host = 'bedrock-mantle.xx-east-9.api.aws';
    const dns = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
    const err = new APIConnectionError({ cause: new TypeError('fetch failed', { cause: dns }) });
    const text = describeServiceError(err) ?? '';
    assert.match(text, /not offered in region xx-east-9/);
    assert.match(text, /--region/);
  });

  it('explains an expired token from an AWS SDK call', () => {
    const err = new STSServiceException({ name: 'ExpiredToken', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'The security token included in the request is expired' });
    assert.match(describeServiceError(err) ?? '', /expired or invalid.*deputy login/);
  });

  it('leaves unrelated errors alone, including a non-AWS 403', () => {
    assert.equal(describeServiceError(new Error('boom')), null);
    assert.equal(describeServiceError(Object.assign(new Error('forbidden'), { status: 403 })), null);
    assert.equal(describeServiceError(undefined), null);
  });

  it('redacts access keys and long tokens from quoted service text', () => {
    const text = redactSecrets('Credential=ASIAABCDEFGHIJKLMNOP/20250101 token IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ');
    assert.doesNotMatch(text, /ASIAABCDEFGHIJKLMNOP|IQoJb3JpZ2lu/);
  });
});

describe('IAM proof shape checks', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  const proofFor = (url: string) => `deputy-iam-v1.${Buffer.from(url).toString('base64url')}`;
  const good = (host = 'https://sts.eu-west-1.amazonaws.com', date = '20250101T115900Z', expires = '300') =>
    `${host}/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256` +
    `&X-Amz-Credential=AKIDEXAMPLE%2F20250101%2Feu-west-1%2Fsts%2Faws4_request&X-Amz-Date=${date}&X-Amz-Expires=${expires}` +
    `&X-Amz-SignedHeaders=host%3Bx-deputy-server-id&X-Amz-Signature=${'a'.repeat(64)}`;
  const check = (url: string, allowedOrigin?: string) =>
    checkProofShape(proofFor(url), { now, maxAgeSeconds: 300, ...(allowedOrigin ? { allowedOrigin } : {}) });

  it('accepts a well-formed fresh proof for a public STS host', () => {
    assert.ok(!('reject' in check(good())));
    assert.ok(!('reject' in check(good('https://sts.amazonaws.com'))));
    assert.ok(!('reject' in check(good('https://sts.cn-north-1.amazonaws.com.cn'))));
  });

  it('refuses other hosts, schemes and ports', () => {
    for (const host of ['https://evil.example.com', 'http://sts.amazonaws.com', 'https://sts.amazonaws.com:8443', 'https://sts.amazonaws.com.evil.com', 'https://x@sts.amazonaws.com']) {
      assert.ok('reject' in check(good(host)), host);
    }
    assert.ok('reject' in check(good('http://127.0.0.1:9')), 'loopback only when configured');
    assert.ok(!('reject' in check(good('http://127.0.0.1:9'), 'http://127.0.0.1:9')));
  });

  it('refuses stale, future, long-lived, other-action and unsigned-server-id proofs', () => {
    assert.match((check(good(undefined, '20250101T115400Z')) as { reject: string }).reject, /expired/);
    assert.match((check(good(undefined, '20250101T123000Z')) as { reject: string }).reject, /future/);
    assert.match((check(good(undefined, undefined, '3600')) as { reject: string }).reject, /longer/);
    assert.ok('reject' in check(good().replace('GetCallerIdentity', 'AssumeRole')));
    assert.ok('reject' in check(good().replace('host%3Bx-deputy-server-id', 'host')));
    assert.ok('reject' in check(`${good()}&Action=GetCallerIdentity`), 'duplicate parameter');
    assert.ok('reject' in check(`${good()}&X-Amz-Extra=1`), 'unexpected parameter');
    assert.ok('reject' in checkProofShape('Bearer abc', { now, maxAgeSeconds: 300 }));
  });
});

describe('browser detection', () => {
  it('uses the device code on headless Linux and over SSH on macOS', () => {
    assert.equal(systemBrowser({}, 'linux').canOpen(), false);
    assert.equal(systemBrowser({ DISPLAY: ':0' }, 'linux').canOpen(), true);
    assert.equal(systemBrowser({ SSH_CONNECTION: '1 2 3 4' }, 'darwin').canOpen(), false);
    assert.equal(systemBrowser({}, 'darwin').canOpen(), true);
    assert.equal(systemBrowser({ DISPLAY: ':0', BROWSER: 'none' }, 'linux').canOpen(), false);
  });
});

describe('IAM proof host pinning', () => {
  const proofFor = (url: string) => `${IAM_PROOF_PREFIX}${Buffer.from(url).toString('base64url')}`;
  const query = '?Action=GetCallerIdentity&Version=2011-06-15';
  it('accepts only hosts AWS names for STS', () => {
    for (const host of ['sts.amazonaws.com', 'sts.us-west-2.amazonaws.com', 'sts-fips.us-east-1.amazonaws.com', 'sts.cn-north-1.amazonaws.com.cn', 'sts.us-gov-west-1.amazonaws.com']) {
      const checked = checkProofShape(proofFor(`https://${host}/${query}`), { maxAgeSeconds: 300, now: Date.now() });
      assert.ok(!('reject' in checked) || !/host/i.test(checked.reject), `${host}: ${JSON.stringify(checked)}`);
    }
    for (const host of ['sts-evil.s3.amazonaws.com', 'sts-x.us-east-1.elb.amazonaws.com', 'sts.amazonaws.com.evil.com', 'sts.evil.amazonaws.com']) {
      const checked = checkProofShape(proofFor(`https://${host}/${query}`), { maxAgeSeconds: 300, now: Date.now() });
      assert.ok('reject' in checked, host);
    }
  });
});

describe('quoted service text', () => {
  it('keeps documentation links readable while tokens go', () => {
    const out = redactSecrets('See https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html for IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ');
    assert.match(out, /UserGuide\/id_credentials_temp_request\.html/);
    assert.doesNotMatch(out, /IQoJb3JpZ2lu/);
  });
});
