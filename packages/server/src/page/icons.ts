// Inline SVG icons (24×24, stroked with currentColor): no image requests, nothing the CSP must allow.

const SVG = 'http://www.w3.org/2000/svg';

const PATHS = {
  eye: ['M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z', 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z'],
  eyeOff: [
    'M10.6 5.1A10.6 10.6 0 0 1 12 5c6.4 0 10 7 10 7a17.7 17.7 0 0 1-2.6 3.6',
    'M6.6 6.6A17.6 17.6 0 0 0 2 12s3.6 7 10 7a9.7 9.7 0 0 0 5.4-1.6',
    'M9.9 9.9a3 3 0 0 0 4.2 4.2',
    'M3 3l18 18',
  ],
  desktop: ['M3 5h18v11H3z', 'M8 20h8', 'M12 16v4'],
  mobile: ['M7 2h10v20H7z', 'M11 18h2'],
  tablet: ['M5 3h14v18H5z', 'M11 17h2'],
  key: ['M15 7a4 4 0 1 1-3.9 4.9L3 20v-3h3v-3h3l2.1-2.1A4 4 0 0 1 15 7z'],
  cookie: ['M12 3a9 9 0 1 0 9 9 4 4 0 0 1-5-4 4 4 0 0 1-4-5z', 'M8.5 12.5h.01', 'M12 16h.01', 'M15.5 13.5h.01'],
} as const;

export type IconName = keyof typeof PATHS;

/** An icon, hidden from assistive technology: its button or text says what it means. */
export function icon(name: IconName, className = 'icon'): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of PATHS[name]) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
