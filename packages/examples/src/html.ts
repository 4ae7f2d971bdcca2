/** Escapes text for an HTML text node or attribute value (the examples' pages interpolate node names). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
