/**
 * multipart/form-data (RFC 7578) as ModSecurity reads it: parts without a filename become
 * ARGS_POST, parts with one become FILES / FILES_NAMES, every part's header lines are kept for
 * MULTIPART_PART_HEADERS. Strictness problems set flags rather than failing the parse.
 */
export interface MultipartPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly headers: string[];
  readonly value: string;
}

export interface MultipartResult {
  readonly parts: MultipartPart[];
  readonly strictError: boolean;
  readonly unmatchedBoundary: boolean;
  readonly error: string | undefined;
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary\s*=\s*(?:"([^"]+)"|([^;,\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

function dispositionParam(line: string, param: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${param}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const m = re.exec(line.replace(/^content-disposition:\s*form-data/i, ''));
  return m ? (m[1] ?? m[2]?.trim()) : undefined;
}

export function parseMultipart(body: string, contentType: string): MultipartResult {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) return { parts: [], strictError: true, unmatchedBoundary: false, error: 'multipart: no boundary' };
  const delimiter = `--${boundary}`;
  const sections = body.split(delimiter);
  const parts: MultipartPart[] = [];
  let strictError = false;
  let closed = false;
  for (let k = 1; k < sections.length; k++) {
    let section = sections[k]!;
    if (section.startsWith('--')) {
      closed = true;
      break;
    }
    section = section.replace(/^[ \t]*\r?\n/, '');
    const headerEnd = section.search(/\r?\n\r?\n/);
    if (headerEnd === -1) {
      strictError = true;
      continue;
    }
    const headers = section.slice(0, headerEnd).split(/\r?\n/);
    const sep = /\r?\n\r?\n/.exec(section.slice(headerEnd))![0];
    const value = section.slice(headerEnd + sep.length).replace(/\r?\n$/, '');
    const disposition = headers.find((h) => /^content-disposition:/i.test(h));
    if (disposition === undefined) {
      strictError = true;
      continue;
    }
    const name = dispositionParam(disposition, 'name') ?? '';
    parts.push({ name, filename: dispositionParam(disposition, 'filename'), headers, value });
  }
  return { parts, strictError: strictError || !closed, unmatchedBoundary: false, error: undefined };
}
