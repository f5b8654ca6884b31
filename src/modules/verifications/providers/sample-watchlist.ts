/**
 * The sandbox's watchlist: entirely fictional names, made up for this project. Real sanctions
 * and PEP data is licensed (OpenSanctions is CC BY-NC 4.0) and must not be bundled; the shape
 * follows OpenSanctions' entities (`schema`, `topics`, `datasets`) so a real list drops in.
 */
export interface WatchlistEntry {
  id: string;
  caption: string;
  schema: 'Person' | 'Company';
  /** `sanction` for a sanctions designation, `role.pep` for a politically exposed person. */
  topics: readonly ('sanction' | 'role.pep')[];
  datasets: readonly string[];
  birthDate?: string;
  country?: string;
}

const dataset = ['fincore-sandbox-sample'];

export const sampleWatchlist: readonly WatchlistEntry[] = [
  {
    id: 'fsl-001',
    caption: 'Ivan Sanctionov',
    schema: 'Person',
    topics: ['sanction'],
    datasets: dataset,
    birthDate: '1961-04-12',
    country: 'XX',
  },
  {
    id: 'fsl-002',
    caption: 'Boris Embargovich',
    schema: 'Person',
    topics: ['sanction'],
    datasets: dataset,
    birthDate: '1958-09-30',
    country: 'XX',
  },
  {
    id: 'fsl-003',
    caption: 'Marta Frozenfunds',
    schema: 'Person',
    topics: ['sanction'],
    datasets: dataset,
    country: 'XX',
  },
  {
    id: 'fsl-004',
    caption: 'Acme Shell Holdings Ltd',
    schema: 'Company',
    topics: ['sanction'],
    datasets: dataset,
    country: 'XX',
  },
  {
    id: 'fsl-005',
    caption: 'Blocked Trading Company',
    schema: 'Company',
    topics: ['sanction'],
    datasets: dataset,
    country: 'XX',
  },
  {
    id: 'fsl-101',
    caption: 'Petra Politika',
    schema: 'Person',
    topics: ['role.pep'],
    datasets: dataset,
    birthDate: '1970-01-15',
    country: 'XX',
  },
  {
    id: 'fsl-102',
    caption: 'Konstantin Ministerov',
    schema: 'Person',
    topics: ['role.pep'],
    datasets: dataset,
    country: 'XX',
  },
];
