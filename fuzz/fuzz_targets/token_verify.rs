//! JWT verification from three sides, all under one fixed key, options and
//! clock (see `keygate_fuzz::fixture`):
//!
//! 1. the input as token text: every refusal path, never a panic;
//! 2. the input as edits to a valid token: any change must be refused;
//! 3. the input as a payload signed with the fixed key, raw and as claim
//!    values: the claim checks, which random text never reaches because they
//!    sit behind the signature (a key holder can sign anything).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::jwt::{Unverified, VerifiedToken};

use keygate_fuzz::{fixture, sign_payload, AUDIENCE, CLIENT_ID, NOW};

/// At most this many edits: enough to combine a change with a repair
/// attempt, few enough to stay near the valid token.
const MAX_EDITS: usize = 16;

fn verify(text: &str) -> Result<VerifiedToken, shared::Error> {
    let fixture = fixture();
    let token = Unverified::parse(text)?;
    let kid = token.kid().to_owned();
    let verified = token.verify(&fixture.key, &fixture.options, NOW)?;
    assert_eq!(verified.kid(), kid);
    Ok(verified)
}

/// Applies edits of 4 bytes each: op, position (u16 LE, wrapped), byte.
fn edit(original: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = original.to_vec();
    for chunk in data.chunks_exact(4).take(MAX_EDITS) {
        let position = usize::from(u16::from_le_bytes([chunk[1], chunk[2]]));
        let byte = chunk[3];
        match chunk[0] % 4 {
            0 if !out.is_empty() => {
                let i = position % out.len();
                out[i] = byte;
            }
            1 => {
                let i = position % (out.len() + 1);
                out.insert(i, byte);
            }
            2 if !out.is_empty() => {
                let i = position % out.len();
                out.remove(i);
            }
            3 => out.truncate(position % (out.len() + 1)),
            _ => {}
        }
    }
    out
}

/// Claims whose times come straight from the input: byte 0 picks the
/// shape, then up to three i64 (LE). Raw JSON mutation almost never reaches
/// the i64 edges; this reaches them at once.
fn claims_from(data: &[u8]) -> Option<String> {
    let (&shape, rest) = data.split_first()?;
    let mut ints = rest
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")));
    let (iat, exp) = (ints.next()?, ints.next()?);
    // Bit 0: times relative to NOW (the valid window) or absolute.
    let (iat, exp) = if shape & 1 != 0 {
        (NOW.wrapping_add(iat % 4096), NOW.wrapping_add(exp % 4096))
    } else {
        (iat, exp)
    };
    // Bit 1: an `nbf`; bit 2: the wrong audience; bit 3: the wrong client.
    let nbf = match ints.next() {
        Some(nbf) if shape & 2 != 0 => format!(r#","nbf":{nbf}"#),
        _ => String::new(),
    };
    let aud = if shape & 4 != 0 {
        "https://other.test"
    } else {
        AUDIENCE
    };
    let client = if shape & 8 != 0 {
        "cl_other"
    } else {
        CLIENT_ID
    };
    Some(format!(
        r#"{{"iss":"{CLIENT_ID}","sub":"{client}","aud":"{aud}","iat":{iat},"exp":{exp}{nbf}}}"#
    ))
}

/// What every accepted token must satisfy, whatever its claims say.
/// i128 so that the check itself cannot overflow.
fn assert_claims_hold(verified: &VerifiedToken) {
    let options = &fixture().options;
    let c = verified.claims();
    let (exp, iat, now, skew) = (
        i128::from(c.exp),
        i128::from(c.iat),
        i128::from(NOW),
        i128::from(options.skew),
    );
    assert!(exp > iat, "{c:?}");
    assert!(exp - iat <= i128::from(options.max_lifetime), "{c:?}");
    assert!(iat <= now + skew, "{c:?}");
    assert!(now < exp + skew, "{c:?}");
    assert!(
        c.nbf.is_none_or(|nbf| i128::from(nbf) <= now + skew),
        "{c:?}"
    );
    assert!(c.aud.iter().any(|a| a == AUDIENCE), "{c:?}");
    assert_eq!(c.iss.as_deref(), Some(CLIENT_ID));
    assert_eq!(c.sub.as_deref(), Some(CLIENT_ID));
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();

    // 1. Untrusted text.
    if let Ok(verified) = verify(&String::from_utf8_lossy(data)) {
        assert_claims_hold(&verified);
    }

    // 2. Edits of the valid token: no other text may verify (strict base64,
    //    canonical S and a signature over the raw bytes leave no slack).
    let edited = edit(fixture.token.as_bytes(), data);
    let edited = String::from_utf8_lossy(&edited);
    if edited != fixture.token {
        assert!(verify(&edited).is_err(), "edited token accepted: {edited}");
    }

    // 3. Any payload, and any claim values, validly signed.
    if let Ok(verified) = verify(&sign_payload(data)) {
        assert_claims_hold(&verified);
    }
    if let Some(claims) = claims_from(data) {
        if let Ok(verified) = verify(&sign_payload(claims.as_bytes())) {
            assert_claims_hold(&verified);
        }
    }
});
