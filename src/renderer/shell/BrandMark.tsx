// The app icon (assets/icon.svg, the one vector source the packaged icons are rendered from), beside the name.
import iconUrl from '../../../assets/icon.svg';

export function BrandMark({ size = 18 }: { size?: number }) {
  return <img className="brand__mark" src={iconUrl} width={size} height={size} alt="" aria-hidden="true" draggable={false} />;
}
