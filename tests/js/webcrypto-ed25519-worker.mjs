// Test fixture: Ed25519 verification with workerd's WebCrypto, exactly as the
// edge calls it (importKey "raw" + verify "Ed25519"). POST a JSON array of
// {pk, msg, sig} (hex) and get back an array of verdicts: true, false, or
// "error: …" when WebCrypto refuses the input outright.
const hex = (text) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));

export default {
  async fetch(request) {
    const vectors = await request.json();
    const verdicts = [];
    for (const { pk, msg, sig } of vectors) {
      try {
        const key = await crypto.subtle.importKey("raw", hex(pk), { name: "Ed25519" }, false, ["verify"]);
        verdicts.push(await crypto.subtle.verify("Ed25519", key, hex(sig), hex(msg)));
      } catch (error) {
        verdicts.push(`error: ${error.message}`);
      }
    }
    return Response.json(verdicts);
  },
};
