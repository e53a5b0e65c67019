// Every backend error the page receives ends up here, visible and announced (role="alert").
export default function ErrorAlert({ message, testId }) {
  if (!message) return null;
  return (
    <p className="alert" role="alert" data-testid={testId}>
      {message}
    </p>
  );
}
