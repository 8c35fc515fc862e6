/**
 * A setting that arrived as a Pulumi secret. The model only records that it exists and
 * under which key: the value itself stays inside Pulumi and reaches a host through a
 * resource's secret inputs, never through generated text.
 */
export class SecretValue {
  constructor(readonly key: string) {}
}

export interface SecretRef {
  readonly key: string;
}

export const SECRET_PLACEHOLDER = (key: string) => `<secret ${key}>`;
