import type { z } from "zod";

/**
 * A step's stdout as its one JSON document, checked against the schema that describes it;
 * the error names the step and what did not fit. One schema gives the parser and the type.
 */
export function parseStepJson<T>(step: string, schema: z.ZodType<T>, stdout: string): T {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout.trim());
  } catch {
    throw new Error(`step ${step} printed no JSON document: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`step ${step} printed unexpected JSON (${where}): ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  return parsed.data;
}
