// An independent JOSE implementation (panva/jose) for interop tests:
//   node tests/js/jose-interop.mjs verify <public-jwk-json> <token> <aud> <iss>
//     prints the verified payload as JSON, or exits 1 with the reason;
//   node tests/js/jose-interop.mjs sign <private-jwk-json> <aud> <iss> <ttl>
//     prints a compact EdDSA JWS signed with the private JWK.
import { SignJWT, importJWK, jwtVerify } from "jose";

const [command, ...args] = process.argv.slice(2);
try {
  if (command === "verify") {
    const [jwk, token, audience, issuer] = args;
    const key = await importJWK(JSON.parse(jwk), "EdDSA");
    const { payload, protectedHeader } = await jwtVerify(token, key, { audience, issuer, algorithms: ["EdDSA"] });
    console.log(JSON.stringify({ header: protectedHeader, payload }));
  } else if (command === "sign") {
    const [jwk, audience, issuer, ttl] = args;
    const parsed = JSON.parse(jwk);
    const key = await importJWK(parsed, "EdDSA");
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: parsed.kid })
      .setIssuer(issuer)
      .setSubject(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${Number(ttl)}s`)
      .setJti(crypto.randomUUID())
      .sign(key);
    console.log(token);
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (error) {
  console.error(`jose: ${error.code ?? ""} ${error.message}`);
  process.exit(1);
}
