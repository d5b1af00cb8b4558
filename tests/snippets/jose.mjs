// npm install jose@6.2.17
import { readFileSync } from "node:fs";
import { importJWK, SignJWT } from "jose";

const jwk = JSON.parse(readFileSync("private.jwk", "utf8"));
const clientId = process.env.KEYGATE_CLIENT_ID;
const token = await new SignJWT({})
  .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: jwk.kid })
  .setIssuer(clientId)
  .setSubject(clientId)
  .setAudience(process.env.KEYGATE_AUDIENCE)
  .setIssuedAt()
  .setExpirationTime("5m")
  .setJti(crypto.randomUUID())
  .sign(await importJWK(jwk, "EdDSA"));
const response = await fetch(process.argv[2], { headers: { authorization: `Bearer ${token}` } });
console.log(await response.text());
