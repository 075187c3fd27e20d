import { STEPS } from './pipeline';

interface Props {
  /** What the bar is about, for screen readers (e.g. the file name). */
  label: string;
  /** Steps completed, 0..5 (fractions while uploading). */
  done: number;
  /** The current stage in words, e.g. "Embedding". */
  stage: string;
  failed?: boolean;
}

/** One file's way through upload → parse → chunk → embed → index. */
export function PipelineProgress({ label, done, stage, failed = false }: Props) {
  const percent = Math.round((done / STEPS.length) * 100);
  return (
    <div className={`pipeline${failed ? ' pipeline--failed' : ''}`}>
      <div
        className="pipeline__bar"
        role="progressbar"
        aria-label={`${label}: progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={stage}
      >
        <span className="pipeline__fill" style={{ width: `${percent}%` }} />
      </div>
      <ol className="pipeline__steps" aria-hidden="true">
        {STEPS.map((step, index) => (
          <li key={step} className={index < Math.floor(done) ? 'is-done' : index === Math.floor(done) ? 'is-current' : ''}>
            {step}
          </li>
        ))}
      </ol>
    </div>
  );
}
