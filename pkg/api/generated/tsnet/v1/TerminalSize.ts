// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface TerminalSize {
  'rows'?: (number);
  'cols'?: (number);
}

export interface TerminalSize__Output {
  'rows': (number);
  'cols': (number);
}
