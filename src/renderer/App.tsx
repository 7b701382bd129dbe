import { useEffect, useState } from 'react';
import type { AppInfo } from '../shared/api';
import { call } from './bridge';
import { StatusBar } from './components/StatusBar';
import { StudyPanel } from './components/StudyPanel';
import { ViewportArea } from './components/ViewportArea';
import { useLedgerStatus } from './useLedgerStatus';

export function App() {
  const ledger = useLedgerStatus();
  const [info, setInfo] = useState<AppInfo | null>(null);
  useEffect(() => {
    call('app.info', {}).then(setInfo, () => undefined);
  }, []);
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand" aria-label="MedImgShr">
          <span className="brand__mark" aria-hidden="true">◆</span>
          MedImgShr
        </span>
        <nav className="toolbar" aria-label="Tools" />
      </header>
      <div className="workspace">
        <StudyPanel />
        <ViewportArea />
      </div>
      <StatusBar ledger={ledger} info={info} />
    </div>
  );
}
