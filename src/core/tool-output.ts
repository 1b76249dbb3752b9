/**
 * Fits a tool result to what the endpoint accepts. An endpoint refuses a result that is too large, and a refused
 * result would fail the whole task; a cut one, with a note saying so, lets the agent ask for a narrower range.
 */

/** `output` unchanged when it fits in `maxBytes` (UTF-8); otherwise a JSON object with the head of it and a note. */
export function limitToolOutput(output: string, maxBytes: number): string {
  const total = Buffer.byteLength(output, 'utf8');
  if (total <= maxBytes) return output;
  // The head is re-encoded as a JSON string, which escaping can lengthen: shrink it until the whole fits.
  let keep = Math.max(0, maxBytes - 512);
  for (;;) {
    const head = utf8Prefix(output, keep);
    const shown = Buffer.byteLength(head, 'utf8');
    const wrapped = JSON.stringify({
      note: `output truncated: ${shown} of ${total} bytes; ask for a narrower range (workspace_read start_line/end_line, a narrower path or glob, fewer max_results).`,
      truncated_output: head,
    });
    if (Buffer.byteLength(wrapped, 'utf8') <= maxBytes || keep === 0) return wrapped;
    keep = Math.floor(keep * 0.8);
  }
}

/** The longest prefix of `text` whose UTF-8 encoding has at most `bytes` bytes, never splitting a character. */
function utf8Prefix(text: string, bytes: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= bytes) return text;
  let end = bytes;
  // Step back over continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}
