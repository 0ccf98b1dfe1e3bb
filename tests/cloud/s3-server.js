// usage: node tests/cloud/s3-server.js <data-dir>
//
// The S3 test server: s3rver (the maintained fork pinned in
// tests/package.json) on 127.0.0.1, on a port the kernel picks, with its
// data in <data-dir>. Prints "port=<n>" once it listens. Credentials are
// s3rver's S3RVER / S3RVER; signatures are verified. Virtual-host requests
// work for hosts "<bucket>.s3.localhost".
//
// s3rver signs a virtual-host request's path with the bucket in front
// ("/<bucket>/<key>", as SigV2 did); SigV4 as AWS computes it signs the
// path as sent ("/<key>"). The string-to-sign is corrected here so that
// virtual-host requests are verified the way AWS verifies them.
//
// s3rver streams an upload into its file as it arrives: a client killed
// mid-upload leaves a truncated object, and Content-MD5 and the signed
// payload hash go unchecked. S3 stores an object only once all of it has
// arrived and matches both; so does this server: the body is read whole
// and checked (400 BadDigest / XAmzContentSHA256Mismatch) before s3rver
// sees it, and an upload cut short is never stored.
//
// s3rver's file store removes a key's directory when a DELETE leaves it
// empty; a PUT into that directory at the same moment (a lock object
// written while another is deleted) then fails to open its file, and the
// unhandled stream error ends the server. S3 has no directories: here a
// DELETE removes the object's files and leaves the (empty) directory.
//
// s3rver overwrites on a PUT with If-None-Match: *, as some S3-compatible
// servers do. To test the other two behaviours the backend meets, buckets
// named "cond-*" answer it as AWS does (412 PreconditionFailed when the
// key exists), and buckets named "nocond-*" refuse the header as other
// servers do (501 NotImplemented).
'use strict';

const path = require('path');

const v4 = require(path.join(__dirname, '..', 'node_modules',
  '@20minutes', 's3rver', 'lib', 'signature', 'v4'));
const s3rverStringToSign = v4.getStringToSign;
v4.getStringToSign = function (canonicalRequest, request) {
  const vhost = /^([^.]+)\.s3\.localhost(:\d+)?$/.exec(
    canonicalRequest.headers.host || '');
  if (vhost && canonicalRequest.uri.startsWith('/' + vhost[1])) {
    const rest = canonicalRequest.uri.slice(vhost[1].length + 1);
    canonicalRequest = { ...canonicalRequest, uri: rest || '/' };
  }
  return s3rverStringToSign(canonicalRequest, request);
};

const FilesystemStore = require(path.join(__dirname, '..', 'node_modules',
  '@20minutes', 's3rver', 'lib', 'stores', 'filesystem'));
const fsp = require('fs/promises');
FilesystemStore.prototype.deleteObject = async function (bucket, key) {
  await Promise.all(['object', 'object.md5', 'metadata.json'].map((kind) =>
    fsp.unlink(this.getResourcePath(bucket, key, kind)).catch((err) => {
      if (err.code !== 'ENOENT') throw err;
    })));
};

const crypto = require('crypto');
const s3rverBodyParser = v4.aws4SignatureBodyParser;
v4.aws4SignatureBodyParser = function (ctx) {
  if (ctx.state.verifiedBody) {
    ctx.request.body = ctx.state.verifiedBody;
    return;
  }
  s3rverBodyParser(ctx);
};

// The whole body, or null when the client went away before sending it.
function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    let done = false;
    req.on('data', (chunk) => parts.push(chunk));
    req.on('end', () => { done = true; resolve(Buffer.concat(parts)); });
    req.on('aborted', () => { if (!done) resolve(null); });
    req.on('error', () => { if (!done) resolve(null); });
  });
}

function s3error(ctx, status, code, message) {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code +
    '</Code><Message>' + message + '</Message></Error>';
}

// PUT /<bucket>/<key> with If-None-Match: * in the two special bucket kinds.
async function conditionalPut(ctx, next) {
  const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (ctx.method !== 'PUT' || !m || ctx.get('If-None-Match') !== '*')
    return next();
  const bucket = m[1], key = decodeURIComponent(m[2]);
  if (bucket.startsWith('nocond-'))
    return s3error(ctx, 501, 'NotImplemented',
      'A header you provided implies functionality that is not implemented');
  if (bucket.startsWith('cond-') &&
      await ctx.app.store.existsObject(bucket, key))
    return s3error(ctx, 412, 'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold');
  return next();
}

// PUT /<bucket>/<key>: the body whole and intact, or not stored at all.
async function verifiedPut(ctx, next) {
  const streaming = ctx.get('x-amz-content-sha256') ===
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  if (ctx.method !== 'PUT' || !/^\/[^/]+\/.+$/.test(ctx.path) || streaming)
    return next();
  const body = await readBody(ctx.req);
  if (body === null)
    return s3error(ctx, 400, 'IncompleteBody', 'The upload was cut short');
  const md5 = ctx.get('Content-MD5');
  if (md5 && crypto.createHash('md5').update(body).digest('base64') !== md5)
    return s3error(ctx, 400, 'BadDigest',
      'The Content-MD5 you specified did not match what we received.');
  const sha = ctx.get('x-amz-content-sha256');
  if (/^[0-9a-f]{64}$/i.test(sha) &&
      crypto.createHash('sha256').update(body).digest('hex') !==
        sha.toLowerCase())
    return s3error(ctx, 400, 'XAmzContentSHA256Mismatch',
      'The provided x-amz-content-sha256 header does not match what was ' +
      'computed.');
  ctx.state.verifiedBody = body;
  return next();
}

// Loaded after the patches above: its controllers keep the functions they
// find at load time.
const S3rver = require(path.join(__dirname, '..', 'node_modules',
  '@20minutes', 's3rver'));

async function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node s3-server.js <data-dir>');
    process.exit(3);
  }
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: dir,
    silent: true,
    serviceEndpoint: 'localhost',
  });
  // after the virtual-host rewrite, before the routes
  server.middleware.splice(server.middleware.length - 1, 0, conditionalPut,
    verifiedPut);
  const { port } = await server.run();
  console.log('port=' + port);
}

main().catch((err) => {
  console.error('s3-server.js: ' + (err && err.stack || err));
  process.exit(1);
});
