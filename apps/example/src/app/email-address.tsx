import { Fragment } from "react";

/**
 * An email address that, when it must wrap (a long one on a phone), wraps after a dot or before the
 * @ rather than in the middle of a word: each piece is followed by a line-break opportunity (<wbr>).
 * `overflow-wrap: anywhere` on values stays the fallback for a piece longer than the line.
 */
export function EmailAddress({ address }: { address: string | null | undefined }) {
  if (!address) return null;
  const pieces: { text: string; offset: number }[] = [];
  let offset = 0;
  for (const text of address.split(/(?<=\.)|(?=@)/)) {
    pieces.push({ text, offset });
    offset += text.length;
  }
  return (
    <>
      {pieces.map(({ text, offset }) => (
        <Fragment key={offset}>
          {offset > 0 ? <wbr /> : null}
          {text}
        </Fragment>
      ))}
    </>
  );
}
