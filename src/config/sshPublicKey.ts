/**
 * One OpenSSH public key line, as ssh-keygen writes it to id_*.pub: `TYPE BASE64 [COMMENT]`.
 * It becomes a line of root's authorized_keys in the guest (through a systemd credential, see
 * src/plan/guest-domain/domainXml.ts), so anything that would make it more than one key is
 * refused: line breaks and other control characters (a second line is a second key),
 * authorized_keys options before the type (`command="…"`, `from=…`), and a key blob that is not
 * the named type's.
 */

/** Key types OpenSSH 10 accepts (ssh-dss is gone since 10.0). */
export const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

/** Room for an RSA 16384 key with a comment; far below what one SMBIOS OEM string can hold. */
export const SSH_PUBLIC_KEY_MAX_LENGTH = 4096;

export const SSH_PUBLIC_KEY_ALLOWED =
  `must be one OpenSSH public key line as in id_ed25519.pub: TYPE BASE64 [COMMENT], TYPE one of ${SSH_KEY_TYPES.join(", ")}; ` +
  `at most ${SSH_PUBLIC_KEY_MAX_LENGTH} characters, no authorized_keys options, no line break or other control character`;

const LINE = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: ([^\u0000-\u001f\u007f]*))?$/;

/** Whether `text` is exactly one public key line whose blob is of the type it names. */
export function isSshPublicKeyLine(text: string): boolean {
  if (text.length > SSH_PUBLIC_KEY_MAX_LENGTH) return false;
  const m = LINE.exec(text);
  if (m === null) return false;
  const [, type, base64] = m as unknown as [string, string, string];
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type) || base64.length % 4 !== 0) return false;
  // The blob starts with its own type as an SSH string: a uint32 length, then the name.
  const blob = Buffer.from(base64, "base64");
  if (blob.length < 4) return false;
  const nameLength = blob.readUInt32BE(0);
  return nameLength === type.length && blob.subarray(4, 4 + nameLength).toString("latin1") === type && blob.length > 4 + nameLength;
}
