import { t } from '../i18n'
export function ErrorNote({ message, retry }: { message: string; retry?: () => void }) {
  return (
    <div class="jd-error" role="alert" data-testid="error">
      <span>{t('Could not load this: {message}', { message })}</span>
      {retry && (
        <button type="button" class="jd-button jd-ghost" onClick={retry}>
          {t('Retry')}
        </button>
      )}
    </div>
  )
}
